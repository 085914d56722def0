from ppc_robot.web.accounts.views import bp

__all__ = ["bp"]
