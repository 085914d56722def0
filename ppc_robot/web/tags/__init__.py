from ppc_robot.web.tags.views import bp

__all__ = ["bp"]
