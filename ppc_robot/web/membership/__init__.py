"""Web-side domain code for people: invites, e-mailed tokens, login throttling, plans.

These functions work on the web_* tables, so they live in the web package (lib may not
import web models); like lib they take the Session first and never commit.
"""
