from ppc_robot.web.signup.views import bp

__all__ = ["bp"]
