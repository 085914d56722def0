from ppc_robot.web.clients.views import bp

__all__ = ["bp"]
