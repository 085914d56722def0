"""A fuzzer over Flask's URL map: every form and query string, posted with hostile values.

Each page the logged-in user can open (every GET route, filled with his own ids) is read for
its forms, as a browser would see them. Every POST route is then sent its form with one field
at a time replaced by a hostile value, dropped, doubled or repeated thousands of times, with a
valid CSRF token; every GET route is sent the same values in its query arguments. The walk is
deterministic (a seeded generator) and reports violations instead of stopping at the first:

- an exception or a 5xx answer;
- a refused request (anything but a redirect) that changed the user's data;
- any request that changed another user's data;
- an accepted change after which one of the user's pages no longer opens.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import quote, quote_from_bytes, urlsplit

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, text
from werkzeug.routing import Rule

from ppc_robot.lib.models import Base

Value = str | bytes

# What the issue names: too large and negative integers, blank and whitespace, NUL bytes,
# invalid UTF-8, a 100 KB string. Every field gets each of these.
CORE_VALUES: list[tuple[str, Value]] = [
    ("1e20", "99999999999999999999"),  # past 64 bits: SQLite's OverflowError
    ("2**31", "2147483648"),  # past the 32-bit keys and INTEGER columns of PostgreSQL
    ("-1", "-1"),
    ("blank", ""),
    ("whitespace", " \t "),
    ("NUL", "a\x00b"),
    ("invalid UTF-8", b"\xff\xfe\xc3(\xed\xa0\x80"),
    ("100 KB", "x" * 100_000),
]
# Drawn from at random: in doubled fields, in query strings, in a form all hostile at once.
EXTRA_VALUES: list[Value] = [
    "0", "1e308", "-1e308", "NaN", "sNaN", "-Infinity", "1e-400", "0x10", "1_000", "١٢",
    "+5", "5.5", "-0", "\n", "\r\n", "\u00a0", "\u202e\U0001f600", "<script>x</script>",
    "' OR 1=1 --", "../../etc/passwd", "{{7*7}}", "=HYPERLINK(\"http://evil.example\")",
    "//evil.example", "/\t/evil.example", "javascript:alert(1)", "2026-02-30", "99:99",
    "* * * * * * *", "#zzzzzz", "a" * 300, "é" * 2000,
]
EXTRA_FIELDS = [("user_id", "1"), ("is_admin", "y"), ("id", "1"), ("plan_id", "1")]
QUERY_NAMES = ("page", "q", "tag", "type", "next", "state", "code", "error")
HUGE_LIST = 12_000  # more entries than any id list takes


@dataclass
class PageForm:
    """One form as a browser sees it: where it goes and what it sends by default."""

    action: str
    method: str
    values: list[tuple[str, str]] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict)  # every field, with a sample value
    lists: set[str] = field(default_factory=set)  # fields taking several values


class _FormParser(HTMLParser):
    def __init__(self, page_url: str) -> None:
        super().__init__(convert_charrefs=True)
        self.page_url = page_url
        self.forms: list[PageForm] = []
        self.by_id: dict[str, PageForm] = {}
        self._form: PageForm | None = None
        self._select: tuple[PageForm, str, bool, list[str], list[str]] | None = None
        self._textarea: tuple[PageForm, str, list[str]] | None = None
        self._late: list[tuple[str, dict[str, str]]] = []  # inputs naming a form further down

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            action = a.get("action") or self.page_url
            self._form = PageForm(action, (a.get("method") or "get").lower())
            self.forms.append(self._form)
            if a.get("id"):
                self.by_id[a["id"]] = self._form
            return
        if tag == "option" and self._select is not None:
            self._select[3].append(a.get("value", ""))
            if "selected" in a:
                self._select[4].append(a.get("value", ""))
            return
        owner = self.by_id.get(a["form"]) if a.get("form") else self._form
        if a.get("form") and owner is None:
            self._late.append((tag, a))
            return
        if owner is None or not a.get("name"):
            return
        if tag in ("input", "button"):
            self._input(owner, tag, a)
        elif tag == "select":
            self._select = (owner, a["name"], "multiple" in a, [], [])
        elif tag == "textarea":
            self._textarea = (owner, a["name"], [])

    def _input(self, form: PageForm, tag: str, a: dict[str, str]) -> None:
        kind = a.get("type", "submit" if tag == "button" else "text").lower()
        name, value = a["name"], a.get("value", "")
        if kind in ("checkbox", "radio"):
            value = value or "y"
            if kind == "checkbox" and name in form.names:
                form.lists.add(name)
            if "checked" in a or name not in form.names:
                # A ticked box, or the first of its group: the form then does something.
                form.values = [(n, v) for n, v in form.values if n != name or kind == "checkbox"]
                form.values.append((name, value))
        elif kind in ("submit", "image", "reset"):
            if name not in form.names:
                form.values.append((name, value))
        else:
            form.values.append((name, value))
        form.names.setdefault(name, value)

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._textarea[2].append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "select" and self._select is not None:
            form, name, multiple, options, selected = self._select
            if multiple:
                form.lists.add(name)
            chosen = selected or ([] if multiple else options[:1])
            if multiple and not chosen:
                chosen = [o for o in options if o][:1]
            form.values.extend((name, v) for v in chosen)
            form.names.setdefault(name, (chosen or options or [""])[0])
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            form, name, parts = self._textarea
            form.values.append((name, "".join(parts)))
            form.names.setdefault(name, "".join(parts))
            self._textarea = None

    def close(self) -> None:
        super().close()
        for tag, a in self._late:
            owner = self.by_id.get(a["form"])
            if owner is not None and a.get("name") and tag in ("input", "button"):
                self._input(owner, tag, a)


def forms_of(html: str, page_url: str) -> list[PageForm]:
    parser = _FormParser(page_url)
    parser.feed(html)
    parser.close()
    return parser.forms


def encode(pairs: list[tuple[str, Value]]) -> str:
    """An application/x-www-form-urlencoded body (or query), bytes sent as they are."""
    def one(value: Value) -> str:
        return quote_from_bytes(value, safe="") if isinstance(value, bytes) else quote(value,
                                                                                       safe="")
    return "&".join(f"{one(name)}={one(value)}" for name, value in pairs)


@dataclass(frozen=True)
class Mutation:
    """One hostile change to a form: `kind` is replace, missing, twice, many, extra, empty."""

    label: str
    kind: str
    name: str = ""
    values: tuple[Value, ...] = ()

    def apply(self, pairs: list[tuple[str, str]]) -> list[tuple[str, Value]]:
        kept: list[tuple[str, Value]] = [(n, v) for n, v in pairs if n != self.name]
        original = next((v for n, v in pairs if n == self.name), "1")
        if self.kind == "replace":
            return kept + [(self.name, v) for v in self.values]
        if self.kind == "missing":
            return kept
        if self.kind == "twice":
            return kept + [(self.name, original), (self.name, self.values[0])]
        if self.kind == "many":
            return kept + [(self.name, original)] * HUGE_LIST
        if self.kind == "extra":
            return list(pairs) + [(n, v) for n, v in zip(self.values[::2], self.values[1::2],
                                                         strict=True)]  # type: ignore[misc]
        if self.kind == "all":
            return [(n, v) for n, v in pairs if n == "csrf_token"] + [
                (n, v) for n, v in zip(self.values[::2], self.values[1::2], strict=True)]  # type: ignore[misc]
        return [(n, v) for n, v in pairs if n == "csrf_token"]  # empty


def mutations(names: list[str], rng: random.Random,
              lists: Collection[str] = ()) -> list[Mutation]:
    """The hostile variants of a form with these fields, the same for the same seed.

    Fields in `lists` take several values: they are also sent thousands of them.
    """
    result: list[Mutation] = []
    for name in names:
        for label, value in CORE_VALUES:
            result.append(Mutation(f"{name}={label}", "replace", name, (value,)))
        result.append(Mutation(f"{name} missing", "missing", name))
        result.append(Mutation(f"{name} twice", "twice", name, (rng.choice(EXTRA_VALUES),)))
        if name in lists:
            result.append(Mutation(f"{name} x{HUGE_LIST}", "many", name))
    everything = [v for _, v in CORE_VALUES] + EXTRA_VALUES
    values: list[Value] = []
    for name in names:
        values += [name, rng.choice(everything)]
    result.append(Mutation("every field hostile", "all", values=tuple(values)))
    extra = tuple(v for pair in EXTRA_FIELDS for v in pair)
    result.append(Mutation("extra fields", "extra", values=extra))
    result.append(Mutation("nothing but the token", "empty"))
    return result


def query_mutations(names: list[str], rng: random.Random) -> list[Mutation]:
    """Hostile query strings: each value in every argument at once (a page reads few of them)."""
    values = [v for _, v in CORE_VALUES] + rng.sample(EXTRA_VALUES, 2)
    result = []
    for value in values:
        pairs = tuple(v for name in names for v in (name, value))
        result.append(Mutation(f"every argument={value!r:.30}", "all", values=pairs))
    doubled = tuple(v for name in names for v in (name, "1", name, rng.choice(EXTRA_VALUES)))
    result.append(Mutation("every argument twice", "all", values=doubled))
    return result


# --- the database, before and after


Snapshot = dict[str, tuple[list[str], list[tuple[str, ...]]]]


def snapshot(engine: Engine, ignore: dict[str, set[str]]) -> Snapshot:
    """Every row of every table (less `ignore`d columns), to compare before and after."""
    state: Snapshot = {}
    quote_name = engine.dialect.identifier_preparer.quote
    with engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            skipped = ignore.get(table.name, set())
            if "*" in skipped:
                continue
            columns = [c.name for c in table.columns if c.name not in skipped]
            # Raw SQL: read thousands of times, so no type processing, no statement building.
            found = connection.exec_driver_sql(
                f"SELECT {', '.join(map(quote_name, columns))} FROM {table.name}").fetchall()
            state[table.name] = (columns, sorted(tuple(map(repr, row)) for row in found))
    return state


def owned_rows(state: Snapshot, user_id: int) -> Snapshot:
    """The rows of `user_id` (by their user_id column, or his own user row): his part."""
    mine: Snapshot = {}
    for name, (columns, rows) in state.items():
        key = "id" if name == "robot_users" else "user_id"
        if key in columns:
            at = columns.index(key)
            mine[name] = (columns, [row for row in rows if row[at] == repr(user_id)])
    return mine


def changes(before: Snapshot, after: Snapshot) -> list[str]:
    return sorted(name for name in before.keys() | after.keys()
                  if before.get(name) != after.get(name))


# --- the walk


@dataclass
class FuzzReport:
    violations: list[str] = field(default_factory=list)
    requests: int = 0
    routes: set[str] = field(default_factory=set)
    resets: int = 0
    seconds: float = 0.0


class Fuzzer:
    """Walks the URL map of `app` as the user `login()` logs in; `reset()` restores the data.

    `login()` answers True when it started a new session (the forms' tokens are then stale).
    `ids()` gives the current object ids by argument name (they change with each reset);
    `other_user_id()` the user whose rows must never change; `pages()` the pages that must
    still open after an accepted change; `intact()` is False when an accepted change took
    away what the next requests need (an object, the admin right), so the data is reset.
    """

    def __init__(self, app: Flask, client: FlaskClient, engine: Engine, *,
                 ids: Callable[[], dict[str, int]], other_user_id: Callable[[], int],
                 login: Callable[[], bool], reset: Callable[[], None],
                 intact: Callable[[], bool], pages: Callable[[], list[str]], skip: set[str],
                 ignore: dict[str, set[str]], token_page: str = "/", seed: int = 13) -> None:
        self.app, self.client, self.engine = app, client, engine
        self.ids, self.other_user_id = ids, other_user_id
        self.login, self.reset, self.intact, self.pages = login, reset, intact, pages
        self.skip, self.ignore, self.token_page = skip, ignore, token_page
        self._state: Snapshot | None = None
        self._turn = -1
        self.formless: list[str] = []  # POST routes no page draws a form for
        self.rng = random.Random(seed)
        self.report = FuzzReport()
        self._sources: dict[str, Rule] = {}  # POST rule -> the GET rule whose page has its form
        self._forms: dict[str, list[tuple[str, str]]] = {}  # POST rule -> its form, current data

    def _rules(self, method: str) -> list[Rule]:
        ids = self.ids()
        return [rule for rule in sorted(self.app.url_map.iter_rules(), key=lambda r: r.rule)
                if method in rule.methods and rule.endpoint not in self.skip
                and all(arg in ids for arg in rule.arguments)]

    def _url(self, rule: Rule) -> str:
        ids = self.ids()
        return rule.build({arg: ids[arg] for arg in rule.arguments}, append_unknown=False)[1]

    def _read(self, page: Rule) -> list[PageForm]:
        url = self._url(page)
        response = self.client.get(url)
        if response.status_code != 200 or "html" not in response.content_type:
            return []
        return forms_of(response.text, url)

    def run(self, *, only: set[str] | None = None) -> FuzzReport:
        """Fuzz every POST route, then every GET route (or those of `only`'s endpoints)."""
        started = time.perf_counter()
        self.login()
        posts = {self._url(rule): rule for rule in self._rules("POST")}
        names: dict[str, set[str]] = {}
        lists: dict[str, set[str]] = {}
        query_names: dict[str, set[str]] = {}
        for page in self._rules("GET"):
            for form in self._read(page):
                path = urlsplit(form.action).path
                if form.method == "get":
                    query_names.setdefault(path, set()).update(form.names)
                elif path in posts:
                    rule = posts[path].rule
                    self._sources.setdefault(rule, page)
                    names.setdefault(rule, set()).update(form.names)
                    lists.setdefault(rule, set()).update(form.lists)
        # Forms with the same fields (create and edit of one thing) share the per-field
        # variants, each going to one of them in turn; each gets every whole-form variant.
        groups: dict[tuple[str, ...], list[Rule]] = {}
        for rule in self._rules("POST"):
            if not only or rule.endpoint in only:
                wanted = tuple(sorted(names.get(rule.rule, set()) - {"csrf_token"}))
                groups.setdefault(wanted, []).append(rule)
                if rule.rule not in self._sources:
                    self.formless.append(rule.rule)
        for wanted, rules in groups.items():
            variants = mutations(list(wanted), self.rng, set().union(
                *(lists.get(rule.rule, set()) for rule in rules)))
            for n, rule in enumerate(rules):
                self._fuzz(rule, "POST", [
                    m for i, m in enumerate(variants)
                    if not m.name or i % len(rules) == n])
        for rule in self._rules("GET"):
            if not only or rule.endpoint in only:
                own = sorted(query_names.get(self._url(rule), set()))
                self._fuzz(rule, "GET", mutations(own, self.rng) if own else [])
                self._fuzz(rule, "GET", query_mutations(sorted(QUERY_NAMES), self.rng))
        self.report.seconds = time.perf_counter() - started
        return self.report

    def _fuzz(self, rule: Rule, method: str, variants: list[Mutation]) -> None:
        self.report.routes.add(f"{method} {rule.rule}")
        for mutation in variants:
            self._one(rule, method, mutation)

    def _baseline(self, rule: Rule, method: str) -> list[tuple[str, str]]:
        """The route's form as its page draws it for the current data, with a valid token."""
        if method == "GET":
            return []
        if rule.rule not in self._forms:
            pairs: list[tuple[str, str]] = []
            source = self._sources.get(rule.rule)
            url = self._url(rule)
            if source is not None:
                forms = [f for f in self._read(source)
                         if f.method == "post" and urlsplit(f.action).path == url]
                pairs = list(forms[0].values) if forms else []
            if not any(name == "csrf_token" for name, _ in pairs):
                from tests.conftest import csrf_token_from

                page = self.client.get(self.token_page).text
                pairs.append(("csrf_token", csrf_token_from(page)))
            self._forms[rule.rule] = pairs
        return self._forms[rule.rule]

    def _one(self, rule: Rule, method: str, mutation: Mutation) -> None:
        pairs = self._baseline(rule, method)
        url = self._url(rule)
        body = encode(mutation.apply(pairs))
        where = f"{method} {rule.rule} [{mutation.label}]"
        before = self._state or snapshot(self.engine, self.ignore)
        self.report.requests += 1
        try:
            if method == "GET":
                response = self.client.get(f"{url}?{body}")
            else:
                response = self.client.post(url, data=body,
                                            content_type="application/x-www-form-urlencoded")
        except Exception as exc:  # noqa: BLE001 - every failure is a finding, not a stop
            self.report.violations.append(f"{where} raised {type(exc).__name__}: {exc}"[:300])
            self._restore()
            return
        status = response.status_code
        after = self._state = snapshot(self.engine, self.ignore)
        if status >= 500:
            self.report.violations.append(f"{where} answered {status}")
        if status == 400 and "The form expired" in response.text:
            # Not the app's fault: the walk lost its token and would prove nothing further.
            self.report.violations.append(f"{where} was refused for its CSRF token")
        other = self.other_user_id()
        theirs = changes(owned_rows(before, other), owned_rows(after, other))
        if theirs:
            self.report.violations.append(f"{where} changed another user's {theirs}")
        changed = changes(before, after)
        if changed and not 300 <= status < 400:
            self.report.violations.append(f"{where} answered {status} but changed {changed}")
        if changed:
            self._check_pages(where, response.headers.get("Location"))
            if self.intact():
                # A password change, say, ends the session: log in again, with a new token.
                if self.login():
                    self._forms.clear()
            else:
                self._restore()

    def _check_pages(self, where: str, location: str | None) -> None:
        """After an accepted change, where he was sent and one of his pages still open.

        One page in turn rather than all: accepted changes are many, and each page is
        opened after some of them.
        """
        pages = self.pages()
        self._turn = (self._turn + 1) % max(1, len(pages))
        for page in ([location] if location else []) + pages[self._turn:self._turn + 1]:
            try:
                status: int | str = self.client.get(page).status_code
            except Exception as exc:  # noqa: BLE001
                status = f"{type(exc).__name__}: {exc}"[:200]
            if status not in (200, 302, 404):
                self.report.violations.append(f"{where}: then GET {page} answered {status}")

    def _restore(self) -> None:
        self.report.resets += 1
        self.reset()
        self.login()
        self._forms.clear()
        self._state = None


def reset_tables(engine: Engine) -> None:
    """Empty every table (as the test teardown does), in the order foreign keys need."""
    tables = [table.name for table in Base.metadata.sorted_tables]
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for name in reversed(tables):
                connection.execute(text(f"DELETE FROM {name}"))
