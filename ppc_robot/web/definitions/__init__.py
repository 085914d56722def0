from ppc_robot.web.definitions.views import bp

__all__ = ["bp"]
