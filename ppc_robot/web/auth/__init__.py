from ppc_robot.web.auth.views import bp

__all__ = ["bp"]
