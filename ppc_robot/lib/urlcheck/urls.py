"""Landing-page URLs: normalised for comparing, de-duplicated with every place of use kept."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from ppc_robot.lib.i18n import N_

MAX_URL_LENGTH = 4096


class MalformedUrl(ValueError):
    """The text is not a web address a browser could open; the message says why."""


@dataclass(frozen=True)
class UrlUse:
    """One place a URL is used: the client account, campaign, ad group and entity."""

    client_account_id: int
    account: str
    entity_type: str
    entity_id: str
    campaign: str | None = None
    ad_group: str | None = None
    paused: bool = False

    def describe(self) -> str:
        where = " › ".join(p for p in (self.account, self.campaign, self.ad_group) if p)
        paused = " (paused)" if self.paused else ""
        return f"{where} — {self.entity_type} {self.entity_id}{paused}"


def normalise_url(url: str) -> str:
    """The URL as compared and checked: trimmed, fragment dropped, scheme and host lowercased,
    the scheme's default port dropped.

    Raises MalformedUrl when it has no http(s) scheme or host, or contains spaces or control
    characters.
    """
    text = url.strip()
    if not text:
        raise MalformedUrl(N_("The URL is empty."))
    if len(text) > MAX_URL_LENGTH:
        raise MalformedUrl(N_("The URL is longer than %(count)d characters.")
                           % {"count": MAX_URL_LENGTH})
    if any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in text):
        raise MalformedUrl(N_("The URL contains spaces or control characters."))
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise MalformedUrl(N_("The URL cannot be read (%(reason)s).") % {"reason": exc}) from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise MalformedUrl(N_("The URL does not start with http:// or https://."))
    host = (parts.hostname or "").lower()
    if not host or host.startswith(".") or ".." in host:
        raise MalformedUrl(N_("The URL has no valid host name."))
    if ":" in host:
        host = f"[{host}]"
    if port is not None and port != {"http": 80, "https": 443}[scheme]:
        host = f"{host}:{port}"
    userinfo = parts.netloc.rpartition("@")[0]
    netloc = f"{userinfo}@{host}" if userinfo else host
    return urlunsplit((scheme, netloc, parts.path or "/", parts.query, ""))


@dataclass
class CollectedUrl:
    """A distinct URL (normalised, or as written when malformed) and everywhere it is used."""

    url: str
    uses: list[UrlUse]
    malformed: str = ""  # why, when it is not a URL that can be checked


def deduplicate(found: Iterable[tuple[str, UrlUse]]) -> list[CollectedUrl]:
    """Group (url, use) pairs by normalised URL, in the order URLs first appear; malformed
    ones are kept as written, with the reason."""
    by_url: dict[str, CollectedUrl] = {}
    for url, use in found:
        try:
            key, reason = normalise_url(url), ""
        except MalformedUrl as exc:
            key, reason = url.strip()[:MAX_URL_LENGTH], str(exc)
        collected = by_url.get(key)
        if collected is None:
            collected = by_url[key] = CollectedUrl(key, [], reason)
        if use not in collected.uses:
            collected.uses.append(use)
    return list(by_url.values())
