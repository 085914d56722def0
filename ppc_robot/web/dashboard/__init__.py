from ppc_robot.web.dashboard.views import bp

__all__ = ["bp"]
