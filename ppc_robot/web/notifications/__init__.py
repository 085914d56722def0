from ppc_robot.web.notifications.views import bp

__all__ = ["bp"]
