"""gunicorn settings of the Procfile's web command (production).

The access log goes to standard output with reset, invite and confirmation tokens cut out of it
(and out of the error log): ppc_robot.web.logs.GunicornLogger.
"""

accesslog = "-"
logger_class = "ppc_robot.web.logs.GunicornLogger"
# gunicorn's control socket lives at one fixed path per user, which a second instance on the
# same machine would fight over; nothing of ours uses it.
control_socket_disable = True
