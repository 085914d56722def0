from ppc_robot.web.oauth.views import bp

__all__ = ["bp"]
