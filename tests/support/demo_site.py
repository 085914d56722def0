"""The demo site's pages served by the loopback site server (tests/stubs/sites.py), with the
slow page made quicker; tests change a page's answer between runs."""

from __future__ import annotations

from ppc_robot.lib.demo_site import DEMO_PAGES, DEMO_SITE_PREFIX, DemoPage
from tests.stubs.sites import Page, SiteServer

SLOW_SECONDS = 0.3


def page_of(demo: DemoPage) -> Page:
    headers = {"Location": DEMO_SITE_PREFIX + demo.location} if demo.location else {}
    body = f"<html><head><title>{demo.title}</title></head><body><h1>{demo.title}</h1></body></html>"
    return Page(demo.status, body.encode(), headers, delay=min(demo.delay, SLOW_SECONDS))


def demo_site_server() -> SiteServer:
    return SiteServer({DEMO_SITE_PREFIX + p.path: page_of(p) for p in DEMO_PAGES}).start()
