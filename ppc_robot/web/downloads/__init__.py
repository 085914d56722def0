from ppc_robot.web.downloads.views import bp

__all__ = ["bp"]
