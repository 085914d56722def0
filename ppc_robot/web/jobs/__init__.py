from ppc_robot.web.jobs.views import bp

__all__ = ["bp"]
