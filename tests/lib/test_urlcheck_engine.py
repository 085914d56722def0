"""The URL checker's engine against a loopback site serving every case a landing page can be."""

from __future__ import annotations

import socket

import pytest

from ppc_robot.lib.urlcheck import (
    CheckResult,
    CheckSettings,
    UrlStatus,
    UrlUse,
    check_urls,
    deduplicate,
    normalise_url,
    refusal_of,
)
from tests.stubs.sites import Page, SiteServer

SOFT = "<html><body><h1>Stránka nenalezena</h1></body></html>".encode()


def _redirect(status: int, location: str, **headers: str) -> Page:
    return Page(status, b"", {"Location": location, **headers})


def _pages(port: int) -> dict[str, Page]:
    return {
        "/ok": Page(),
        "/r301": _redirect(301, "/r302"),
        "/r302": _redirect(302, "/r307"),
        "/r307": _redirect(307, "/r308"),
        "/r308": _redirect(308, "/ok#part"),
        "/bad-chain": _redirect(301, "/bad-chain-2"),
        "/bad-chain-2": _redirect(302, "/missing"),
        "/loop-a": _redirect(301, "/loop-b"),
        "/loop-b": _redirect(302, "/loop-a"),
        "/missing": Page(404, b"gone"),
        "/gone": Page(410, b""),
        "/error": Page(500, b"oops"),
        "/busy": Page(503, b"", {"Retry-After": "1"}),
        "/slow": Page(delay=0.4),
        "/hang": Page(hang=True),
        "/drop": Page(drop=True),
        "/soft": Page(body=SOFT),
        "/huge": Page(huge=50 * 1024 * 1024),
        "/forbidden": Page(403, b"Access denied"),
        "/throttled": Page(429, b""),
        "/to-ftp": _redirect(302, "ftp://files.example.com/a.pdf"),
        "/to-js": _redirect(302, "javascript:alert(1)"),
        "/to-private": _redirect(302, f"http://localhost:{port}/ok"),
    }


@pytest.fixture
def site():
    server = SiteServer().start()
    server.pages.update(_pages(server.port))
    yield server
    server.stop()


def _settings(**overrides) -> CheckSettings:
    values = dict(allowed_hosts=("127.0.0.1",), min_interval=0.0, connect_timeout=2.0,
                  total_timeout=2.0, default_retry_wait=0.1, max_retry_wait=1.5)
    values.update(overrides)
    return CheckSettings(**values)


def _check(urls: list[str], settings: CheckSettings) -> dict[str, CheckResult]:
    results: dict[str, CheckResult] = {}
    check_urls(urls, settings, lambda result: results.setdefault(result.url, result))
    return results


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_every_case_gives_its_exact_result(site):
    base = site.url
    closed = _closed_port()
    expected = {
        f"{base}/ok": (UrlStatus.OK, "", 200, 0),
        f"{base}/r301": (UrlStatus.REDIRECT, "", 200, 4),
        f"{base}/bad-chain": (UrlStatus.BROKEN, "HTTP 404 Not Found.", 404, 2),
        f"{base}/loop-a": (UrlStatus.BROKEN, "Redirect loop: the chain comes back to a URL it visited.", 302, 2),
        f"{base}/missing": (UrlStatus.BROKEN, "HTTP 404 Not Found.", 404, 0),
        f"{base}/gone": (UrlStatus.BROKEN, "HTTP 410 Gone.", 410, 0),
        f"{base}/error": (UrlStatus.BROKEN, "HTTP 500 Internal Server Error.", 500, 0),
        f"{base}/busy": (UrlStatus.INCONCLUSIVE, "HTTP 503 Service Unavailable: probably bot protection or "
                         "overload, not counted as broken; the same on a second try.", 503, 0),
        f"{base}/slow": (UrlStatus.OK, "", 200, 0),
        f"{base}/hang": (UrlStatus.BROKEN, "No complete answer within 2 s (timeout).", None, 0),
        f"{base}/drop": (UrlStatus.BROKEN, "The server dropped the connection without a complete answer.", None, 0),
        f"{base}/soft": (UrlStatus.BROKEN, "Soft 404: the page says “Stránka nenalezena”.", 200, 0),
        f"{base}/huge": (UrlStatus.OK, "", 200, 0),
        f"{base}/forbidden": (UrlStatus.INCONCLUSIVE, "HTTP 403 Forbidden: probably bot protection or "
                              "overload, not counted as broken; the same on a second try.", 403, 0),
        f"{base}/throttled": (UrlStatus.INCONCLUSIVE, "HTTP 429 Too Many Requests: probably bot protection "
                              "or overload, not counted as broken; the same on a second try.", 429, 0),
        f"{base}/to-ftp": (UrlStatus.BROKEN, "Redirects to a non-web address (ftp:).", 302, 1),
        f"{base}/to-js": (UrlStatus.BROKEN, "Redirects to a non-web address (javascript:).", 302, 1),
        f"http://127.0.0.1:{closed}/": (UrlStatus.BROKEN, "Connection refused: nothing answers on that address.", None, 0),
        "http://no-such-host.invalid/": (UrlStatus.BROKEN, "The host name does not exist (DNS lookup failed).", None, 0),
        "http://169.254.169.254/latest/meta-data/": (
            UrlStatus.BROKEN, "Not checked: 169.254.169.254 resolves to a cloud metadata address "
            "(169.254.169.254); the checker does not fetch internal addresses.", None, 0),
        "http://10.1.2.3/landing": (
            UrlStatus.BROKEN, "Not checked: 10.1.2.3 resolves to a private address (10.1.2.3); the "
            "checker does not fetch internal addresses.", None, 0),
    }

    results = _check(list(expected), _settings())

    found = {url: (r.status, r.error, r.http_status, len(r.chain)) for url, r in results.items()}
    assert found == expected
    assert results[f"{base}/r301"].final_url == f"{base}/ok"
    assert results[f"{base}/r301"].chain == [f"301 → {base}/r302", f"302 → {base}/r307",
                                             f"307 → {base}/r308", f"308 → {base}/ok#part"]
    assert results[f"{base}/busy"].attempts == 2 and site.hits("/busy") == 2
    assert site.hits("/gone") == 1  # a plain 410 is not re-tried


def test_a_redirect_to_an_internal_host_is_refused_on_that_hop(site):
    results = _check([f"{site.url}/to-private"], _settings())

    result = results[f"{site.url}/to-private"]
    assert result.status is UrlStatus.BROKEN
    assert result.error.startswith("Not checked: localhost resolves to a loopback address")
    assert result.chain == [f"302 → http://localhost:{site.port}/ok"]
    assert site.hits("/ok") == 0


def test_loopback_is_refused_unless_allowed(site):
    results = _check([f"{site.url}/ok"], _settings(allowed_hosts=()))

    assert results[f"{site.url}/ok"].error == ("Not checked: 127.0.0.1 resolves to a loopback address "
                                               "(127.0.0.1); the checker does not fetch internal addresses.")
    assert site.hits("/ok") == 0


def test_a_tls_handshake_with_a_plain_server_is_a_tls_error(site):
    url = f"https://127.0.0.1:{site.port}/ok"

    result = _check([url], _settings())[url]

    assert result.status is UrlStatus.BROKEN and result.error.startswith("TLS error:")


def test_head_refused_falls_back_to_get_without_phrases(site):
    site.pages["/head-refused"] = Page(head_status=405)
    site.pages["/plain"] = Page()

    results = _check([f"{site.url}/head-refused", f"{site.url}/plain"], _settings(soft_404_phrases=()))

    assert {r.status for r in results.values()} == {UrlStatus.OK}
    assert (site.hits("/head-refused", "HEAD"), site.hits("/head-refused", "GET")) == (1, 1)
    assert (site.hits("/plain", "HEAD"), site.hits("/plain", "GET")) == (1, 0)


@pytest.mark.parametrize("reading", [{"soft_404_phrases": ("Page not found",)},
                                     {"soft_404_phrases": (), "monitor_text": "Hello"}])
def test_with_phrases_or_a_text_to_monitor_the_page_is_read_with_get_at_once(site, reading):
    site.pages["/plain"] = Page()

    result = _check([f"{site.url}/plain"], _settings(**reading))[f"{site.url}/plain"]

    assert result.status is UrlStatus.OK
    assert (site.hits("/plain", "HEAD"), site.hits("/plain", "GET")) == (0, 1)  # HEAD has no body


@pytest.mark.parametrize(("body", "status"), [
    (b"<p>Price (USD) [new]* only 10.5$</p>", UrlStatus.OK),
    (b"<p>Price USD new only 10.5$</p>", UrlStatus.BROKEN),
])
def test_text_to_monitor_is_plain_text_even_with_regex_characters(site, body, status):
    site.pages["/product"] = Page(body=body)

    result = _check([f"{site.url}/product"], _settings(monitor_text="price (usd) [new]*"))[f"{site.url}/product"]

    assert result.status is status
    if status is UrlStatus.BROKEN:
        assert result.error == "The monitored text “price (usd) [new]*” is not on the page."


def test_a_soft_404_phrase_after_the_first_64_kb_is_not_read(site):
    site.pages["/long"] = Page(body=b"a" * (64 * 1024) + "Stránka nenalezena".encode())

    result = _check([f"{site.url}/long"], _settings())[f"{site.url}/long"]

    assert result.status is UrlStatus.OK


def test_the_per_host_limit_holds_at_the_server(site):
    site.route = lambda method, path: Page(delay=0.1) if path.startswith("/p/") else None
    urls = [f"{site.url}/p/{n}" for n in range(24)]

    results = _check(urls, _settings(per_host=2, concurrency=32))

    assert len(results) == 24 and {r.status for r in results.values()} == {UrlStatus.OK}
    assert site.most_in_flight == 2


def test_urls_are_normalised_and_every_use_is_kept():
    first = UrlUse(1, "Shoes CZ", "ad", "11", "Brand", "Core")
    second = UrlUse(2, "Shoes SK", "keyword", "22", "Generic", "Long tail")
    found = [("HTTPS://Shop.Example.com:443/a?x=1#top", first),
             ("https://shop.example.com/a?x=1", second),
             ("https://shop.example.com/a?x=1", second),
             ("shop.example.com/b", first)]

    collected = deduplicate(found)

    assert [(c.url, c.uses, c.malformed) for c in collected] == [
        ("https://shop.example.com/a?x=1", [first, second], ""),
        ("shop.example.com/b", [first], "The URL does not start with http:// or https://."),
    ]


@pytest.mark.parametrize(("url", "normal"), [
    ("http://EXAMPLE.com", "http://example.com/"),
    ("http://example.com:8080/a#b", "http://example.com:8080/a"),
    ("  https://example.com/Path?Q=1  ", "https://example.com/Path?Q=1"),
])
def test_normalise_url(url, normal):
    assert normalise_url(url) == normal


@pytest.mark.parametrize("address", ["127.0.0.1", "10.0.0.1", "192.168.1.1", "169.254.169.254",
                                     "::1", "fe80::1", "fd00:ec2::254", "100.64.0.1", "0.0.0.0",
                                     "::ffff:127.0.0.1"])
def test_internal_addresses_are_refused(address):
    import ipaddress

    assert refusal_of(ipaddress.ip_address(address)) is not None
    assert refusal_of(ipaddress.ip_address("93.184.216.34")) is None


def test_retry_after_is_honoured_before_the_second_try(site):
    site.pages["/busy-2"] = Page(503, b"", {"Retry-After": "1"})

    result = _check([f"{site.url}/busy-2"], _settings())[f"{site.url}/busy-2"]

    first, second = site.arrivals["/busy-2"]
    assert result.attempts == 2 and result.status is UrlStatus.INCONCLUSIVE
    assert second - first >= 1.0


def test_an_inconclusive_answer_that_clears_on_the_second_try_counts(site):
    answers = iter([Page(429, b"", {"Retry-After": "0"}), Page()])
    site.route = lambda method, path: next(answers) if path == "/flaky" else None

    result = _check([f"{site.url}/flaky"], _settings())[f"{site.url}/flaky"]

    assert (result.status, result.attempts, result.error) == (UrlStatus.OK, 2, "")


def test_the_minimum_interval_spaces_the_requests_to_one_host(site):
    urls = [f"{site.url}/ok?n={n}" for n in range(4)]

    _check(urls, _settings(min_interval=0.8))

    # Starts are 0.8 s apart; arrivals at the server may each lag their start a little on a
    # busy machine, so half the interval is asserted (without it they arrive together).
    times = sorted(site.arrivals["/ok"])
    assert all(later - earlier >= 0.4 for earlier, later in zip(times, times[1:], strict=False))


@pytest.fixture
def full_backlog():
    """A listening socket that accepts nothing, its queue filled: further connects hang."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = []
    for _ in range(8):
        filler = socket.socket()
        filler.setblocking(False)
        filler.connect_ex(("127.0.0.1", port))
        fillers.append(filler)
    yield port
    for filler in fillers:
        filler.close()
    listener.close()


def test_a_host_that_does_not_accept_is_a_connect_timeout(full_backlog):
    url = f"http://127.0.0.1:{full_backlog}/"

    result = _check([url], _settings(connect_timeout=0.5, total_timeout=5))[url]

    assert (result.status, result.error) == (
        UrlStatus.BROKEN, "No connection within 0.5 s (connect timeout).")


def test_waiting_for_the_hosts_slot_does_not_count_against_the_timeout(site):
    site.route = lambda method, path: Page(delay=0.6) if path.startswith("/q/") else None
    urls = [f"{site.url}/q/{n}" for n in range(3)]

    results = _check(urls, _settings(per_host=1, total_timeout=1.0))

    assert {r.status for r in results.values()} == {UrlStatus.OK}
    assert all(500 <= r.response_ms < 1000 for r in results.values())


def test_the_installations_settings_and_the_jobs_parameters_make_the_engines():
    from ppc_robot.lib.reports.url_checker import default_parameters
    from ppc_robot.lib.reports.url_checker_run import check_settings

    settings = check_settings(default_parameters() | {"soft_404_phrases": "", "total_timeout": 12},
                              {"PPC_ROBOT_BASE_URL": "https://robot.example.com",
                               "PPC_ROBOT_URLCHECK_PER_HOST": "0",
                               "PPC_ROBOT_URLCHECK_MIN_INTERVAL": "",
                               "PPC_ROBOT_URLCHECK_ALLOWED_HOSTS": " Intranet.local:8080, 10.0.0.5 "})

    assert (settings.per_host, settings.min_interval, settings.concurrency) == (None, 0.25, 32)
    assert settings.allowed_hosts == ("robot.example.com:443", "intranet.local:8080", "10.0.0.5")
    assert (settings.soft_404_phrases, settings.total_timeout) == ((), 12.0)


def test_an_allowed_host_and_port_allows_that_port_only(site):
    other = _closed_port()
    urls = [f"{site.url}/ok", f"http://127.0.0.1:{other}/"]

    results = _check(urls, _settings(allowed_hosts=(f"127.0.0.1:{site.port}",)))

    assert results[f"{site.url}/ok"].status is UrlStatus.OK
    assert results[f"http://127.0.0.1:{other}/"].error.startswith(
        "Not checked: 127.0.0.1 resolves to a loopback address")
