from ppc_robot.web.help.views import bp

__all__ = ["bp"]
