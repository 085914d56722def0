from ppc_robot.web.demo_site.views import bp

__all__ = ["bp"]
