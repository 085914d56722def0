from ppc_robot.web.notifications import settings as _settings  # noqa: F401 - registers its views
from ppc_robot.web.notifications.views import bp

__all__ = ["bp"]
