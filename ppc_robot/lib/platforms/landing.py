"""Landing pages as a click reaches them: the final URL, its suffix, and the platform's
`{placeholders}` resolved from what the entity knows or stripped.

Every adapter builds `LandingPage.url` with `landing_url`: the platforms append the final-URL
suffix to the final URL (before any fragment, with `?` or `&`), and fill `{…}` parameters at
click time. What we know about the entity (its ids, keyword text, custom parameters) is filled
in; what only a click knows (`{gclid}`, `{device}`, `{msclkid}`…) is stripped, and a query
parameter left empty by that is dropped whole, as the page would see it without tracking.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import quote

from ppc_robot.lib.models import Platform

PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


def append_suffix(url: str, suffix: str | None) -> str:
    """`url` with the final-URL suffix appended to its query, before any fragment."""
    suffix = (suffix or "").strip().lstrip("?&")
    if not suffix:
        return url
    base, hash_mark, fragment = url.partition("#")
    joiner = "" if base.endswith(("?", "&")) else "&" if "?" in base else "?"
    return f"{base}{joiner}{suffix}{hash_mark}{fragment}"


def resolve_placeholders(url: str, values: Mapping[str, str]) -> str:
    """Fill `{name}` placeholders from `values` (names compared without case), strip the rest;
    a query parameter whose value was only unresolved placeholders is dropped."""
    known = {k.lower(): v for k, v in values.items()}

    def fill(text: str) -> tuple[str, bool]:
        unresolved = False

        def one(match: re.Match[str]) -> str:
            nonlocal unresolved
            value = known.get(match.group(1).strip().lower())
            if value is None:
                unresolved = True
                return ""
            return quote(value, safe="-._~")

        return PLACEHOLDER.sub(one, text), unresolved

    if "{" not in url:
        return url
    base, hash_mark, fragment = url.partition("#")
    path, question, query = base.partition("?")
    path, _ = fill(path)
    kept = []
    for pair in query.split("&") if query else []:
        name, equals, value = pair.partition("=")
        value, unresolved = fill(value)
        name, _ = fill(name)
        if not name or (unresolved and not value):
            continue
        kept.append(f"{name}{equals}{value}")
    fragment, _ = fill(fragment)
    query = "&".join(kept)
    return f"{path}{'?' if query else ''}{query}{hash_mark if fragment else ''}{fragment}"


def landing_url(final_url: str, suffix: str | None = None,
                values: Mapping[str, str] | None = None) -> str:
    """The URL a click on an entity with this final URL and suffix lands on."""
    return resolve_placeholders(append_suffix(final_url.strip(), suffix), values or {})


def first_suffix(*suffixes: Any) -> str:
    """The most specific final-URL suffix: the entity's own overrides its ad group's, which
    overrides its campaign's (the order the arguments come in)."""
    return next((str(s) for s in suffixes if s), "")


def custom_parameters(*levels: Iterable[tuple[str, str]]) -> dict[str, str]:
    """`{_name}` custom parameters, the most specific level first winning."""
    found: dict[str, str] = {}
    for level in levels:
        for key, value in level:
            name = "_" + str(key).lstrip("_")
            found.setdefault(name, str(value))
    return found


def urls(value: Any) -> list[str]:
    """A list of URLs from a JSON array (or a lone string), blanks dropped."""
    if isinstance(value, str):
        value = [value]
    return [str(u).strip() for u in value or [] if str(u or "").strip()]


def planned_calls(platform: Platform, entities: Sequence[str], accounts: int) -> int:
    """The fewest API calls `landing_pages` makes for `accounts` client accounts of one login,
    for the quota limiter's `plan()` (calls beyond it are counted one by one as they happen).

    Google Ads: one searchStream per query (ads, keywords, three sitelink levels). Sklik:
    `api.limits` once per login, then at least one page per list. Microsoft: the campaigns of
    each account, and its account-level sitelink associations; ad groups, ads, keywords and
    the other association levels depend on how many campaigns and groups there are.
    """
    wanted = set(entities)
    ads, keywords, sitelinks = (bool(wanted & {"ad", "ad_mobile"}), "keyword" in wanted,
                                "sitelink" in wanted)
    if accounts < 1 or not (ads or keywords or sitelinks):
        return 0
    if platform is Platform.GOOGLE_ADS:
        return accounts * (ads + keywords + 3 * sitelinks)
    if platform is Platform.SKLIK:
        return 1 + accounts * (ads + keywords + sitelinks)
    if platform is Platform.MICROSOFT:
        return accounts * (1 + sitelinks)
    return 0
