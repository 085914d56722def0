from ppc_robot.web.folders.views import bp

__all__ = ["bp"]
