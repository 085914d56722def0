from ppc_robot.web.admin.views import bp

__all__ = ["bp"]
