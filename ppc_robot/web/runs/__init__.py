from ppc_robot.web.runs.views import bp

__all__ = ["bp"]
