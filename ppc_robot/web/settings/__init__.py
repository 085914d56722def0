from ppc_robot.web.settings.views import bp

__all__ = ["bp"]
