"""Every page the demo workspace links to opens, in English and in Czech, and none of the
demo user's objects opens for another user.

The demo is seeded and run by the embedded worker first (its jobs' runs, outputs, previews,
notifications and statistics), then its pages are walked from the dashboard by following
every same-site link, as a user clicking through the app would.
"""

from __future__ import annotations

import html
import re
from collections import Counter, deque
from urllib.parse import urlsplit

from ppc_robot.lib.demo import seed_demo
from ppc_robot.lib.models import utcnow
from tests.factories import make_user
from tests.support.demo import run_demo

LINK = re.compile(r'href="(/[^"#]*)"')
# Static files, and the Sandbox's demo web site (its pages answer 404, 410 and slowly on purpose).
SKIPPED = ("/static/", "/demo-site/")
MOST_PAGES = 700
VARIANTS_PER_PATH = 3  # query strings (a sort, a page, a filter) followed per path
OBJECT_PATH = re.compile(r"/\d+(/|$)")
SHARED = ("/help/",)  # the knowledge base: the same pages for everyone
# English that pages once showed a Czech reader (sentences made in lib, choices, run logs).
ENGLISH_LEFTOVERS = ("Accounts in no client", "All of login", "All of client",
                     "chosen client account", "is not set up on this server", "Remove them (",
                     "no minimum volume", "(manual)", "attempt 1 started", "rows written",
                     "not up to date", "by the rows you pick", "Spend month to date", "used by",
                     "on track", "nothing answers on that address", "<th>Where used</th>")


def crawl(client, start: str = "/") -> dict[str, int]:
    """Each page reached from `start` through links, with its status."""
    statuses: dict[str, int] = {}
    variants: Counter[str] = Counter()
    queue = deque([start])
    while queue and len(statuses) < MOST_PAGES:
        url = queue.popleft()
        if url in statuses:
            continue
        response = _get(client, url)
        statuses[url] = response.status_code
        if response.status_code != 200 or response.mimetype != "text/html":
            continue
        for href in LINK.findall(response.get_data(as_text=True)):
            link = html.unescape(href)
            path = urlsplit(link).path
            if link in statuses or link.startswith(SKIPPED) or link.startswith("//"):
                continue
            if link != path:
                if variants[path] >= VARIANTS_PER_PATH:
                    continue
                variants[path] += 1
            queue.append(link)
    return statuses


def _get(client, url: str):
    try:
        return client.get(url)
    except Exception as exc:  # TESTING propagates a view's exception: name the page it broke
        raise AssertionError(f"GET {url} raised {exc!r}") from exc


def test_every_linked_page_opens_in_both_languages_and_for_nobody_else(
        app, client, login, session):
    started = utcnow()
    demo = seed_demo(session)
    session.commit()
    run_demo(app, session, demo.user.id, started)
    login(demo.user)

    statuses = crawl(client)

    broken = {url: status for url, status in statuses.items() if status not in (200, 302, 303)}
    assert broken == {}
    kinds = {urlsplit(url).path.split("/")[1] for url in statuses}
    assert {"", "jobs", "runs", "folders", "clients", "accounts", "notifications"} <= kinds
    assert len(statuses) > 100

    # In English the demo shows the sentences checked below for leftovers in Czech.
    job_pages = [url for url in statuses if re.fullmatch(r"/jobs/\d+", url)]
    english = "".join(client.get(url).get_data(as_text=True) for url in ["/", *job_pages])
    assert "Accounts in no client" in english and "All of login" in english
    demo.user.locale = "cs"
    session.commit()
    czech = {url: _get(client, url) for url in statuses}
    assert {url: response.status_code for url, response in czech.items()} == statuses
    assert "<title>Přehled" in czech["/"].get_data(as_text=True)
    leftovers = {(url, phrase) for url, response in czech.items() if response.mimetype == "text/html"
                 for phrase in ENGLISH_LEFTOVERS if phrase in response.get_data(as_text=True)}
    assert leftovers == set()

    stranger = make_user(session)
    session.commit()
    login(stranger)
    objects = [url for url in statuses
               if OBJECT_PATH.search(urlsplit(url).path) and not url.startswith(SHARED)]
    opened = {url: status for url in objects if (status := _get(client, url).status_code) != 404}
    assert opened == {}
    assert len(objects) > 50
