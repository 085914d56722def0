"""The demo site the app serves at /demo-site/ for the Sandbox's ads: a small shop with the
problems a URL checker should find (404s, a 410, a redirect chain, a loop, a soft 404, a slow
page). The web app draws it (`ppc_robot.web.demo_site`); the Sandbox links its ads to it."""

from __future__ import annotations

from dataclasses import dataclass

DEMO_SITE_PREFIX = "/demo-site"


@dataclass(frozen=True)
class DemoPage:
    """One path of the demo site: `status` it answers, its title, where it redirects to, and
    how long it makes the visitor wait."""

    path: str
    title: str
    status: int = 200
    location: str | None = None
    delay: float = 0.0
    soft_404: bool = False


DEMO_PAGES = (
    DemoPage("/", "Acme — home"),
    DemoPage("/shoes", "Shoes"),
    DemoPage("/shoes/running", "Running shoes"),
    DemoPage("/garden", "Garden centre"),
    DemoPage("/bikes", "Bike rental"),
    DemoPage("/pet-food", "Pet food"),
    DemoPage("/sale-2019", "Sale 2019", status=404),
    DemoPage("/old-collection", "Old collection", status=410),
    DemoPage("/winter", "Winter", status=301, location="/promo/winter"),
    DemoPage("/promo/winter", "Winter promo", status=302, location="/shoes"),
    DemoPage("/loop-a", "Loop A", status=302, location="/loop-b"),
    DemoPage("/loop-b", "Loop B", status=302, location="/loop-a"),
    DemoPage("/product/discontinued", "Stránka nenalezena", soft_404=True),
    DemoPage("/slow", "Slow page", delay=2.0),
    DemoPage("/checkout-old", "Checkout", status=404),
)
BY_PATH = {page.path: page for page in DEMO_PAGES}
# What the URL checker should find broken on the demo site (the loop and the soft 404 included).
BROKEN_PATHS = ("/sale-2019", "/old-collection", "/loop-a", "/product/discontinued",
                "/checkout-old")
# The pages the Sandbox's ads link to (the redirect's second hop and the loop's other half are
# reached through the first).
LANDING_PATHS = tuple(p.path for p in DEMO_PAGES if p.path not in ("/promo/winter", "/loop-b"))


def demo_url(base_url: str, path: str) -> str:
    """The absolute address of a demo-site path on the app at `base_url`."""
    return f"{base_url.rstrip('/')}{DEMO_SITE_PREFIX}{path}"
