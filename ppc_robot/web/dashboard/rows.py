"""The dashboard table's rows, joined in Python.

A dashboard shows a line per client and currency, a few hundred for an agency, each with a
pacing bar, ten figures against their targets and a sparkline; drawn through Jinja macros they
cost more than the rest of the page together. The markup is that of `macros/stats.html`
(pacing_bar, pacing_status, figures_cells, sparkline), which the client page still uses.
"""

from __future__ import annotations

from collections.abc import Sequence

from flask import render_template
from flask_babel import gettext as _
from markupsafe import Markup, escape

from ppc_robot.lib.dashboard import Figures, PerformanceLine, PerformanceTable, Signals
from ppc_robot.lib.models import ClientAccountTag
from ppc_robot.lib.pacing import Pacing
from ppc_robot.web.filters import money, percent, ratio, sparkline_points, template_url_for
from ppc_robot.web.i18n import current_locale

DASH = "—"


def _pacing_bar(pacing: Pacing, currency: str) -> str:
    if pacing.budget is None or pacing.spent_share is None or pacing.expected is None:
        return f'<span class="text-muted small pacing-none">{escape(_("no budget"))}</span>'
    spent = float(pacing.spent_share)
    scale = min(max(100.0, spent), 200.0)
    fill = min(spent, scale) / scale * 100
    mark = float(pacing.expected_share) / scale * 100
    label = escape(_("%(spend)s of %(budget)s; pro-rated to yesterday %(expected)s",
                     spend=money(pacing.spend, currency), budget=money(pacing.budget, currency),
                     expected=money(pacing.expected, currency)))
    return (f'<svg class="pacing-bar" viewBox="0 0 100 12" preserveAspectRatio="none" role="img" '
            f'aria-label="{label}"><title>{label}</title>'
            f'<rect class="pacing-track" x="0" y="2" width="100" height="8"/>'
            f'<rect class="pacing-fill pacing-{pacing.signal}" x="0" y="2" width="{fill:.1f}" '
            f'height="8"/><line class="pacing-mark" x1="{mark:.1f}" x2="{mark:.1f}" y1="0" '
            f'y2="12"/></svg>')


def _pacing_status(pacing: Pacing) -> str:
    if pacing.budget is None or pacing.percent is None:
        return '<span class="text-muted">—</span>'
    return (f'<span class="badge pacing-badge pacing-{pacing.signal}">{escape(_(pacing.status.label))} · '
            f'{pacing.percent:.0f}&nbsp;%</span>')


def _figures(figures: Figures, signals: Signals) -> str:
    cpa = figures.cpa
    return (f'<td class="text-end">{money(figures.cost)}</td>'
            f'<td class="text-end">{ratio(figures.conversions, 1)}</td>'
            f'<td class="text-end signal signal-{signals.cpa}">{money(cpa) if cpa is not None else DASH}</td>'
            f'<td class="text-end signal signal-{signals.roas}">{ratio(figures.roas)}</td>'
            f'<td class="text-end signal signal-{signals.pno}">{percent(figures.pno)}</td>')


def _budget(line: PerformanceLine) -> str:
    if line.pacing.budget is not None:
        return money(line.pacing.budget)
    if line.budget_elsewhere and line.client is not None:
        title = escape(_("the budget is in %(currency)s", currency=line.client.currency))
        return (f'<span class="text-muted small" title="{title}">'
                f'{escape(_("in %(currency)s", currency=line.client.currency))}</span>')
    return f'<span class="text-muted small">{escape(_("no budget"))}</span>'


def performance_rows(lines: Sequence[PerformanceLine], series_label: str) -> Markup:
    """The `<tr>`s of the dashboard's client table."""
    rows = []
    for line in lines:
        currency = escape(line.currency)
        name = escape(line.name if line.client is not None else _(line.name))
        if line.client is not None:
            url = template_url_for("clients.show", client_id=line.client.id)
            who = f'<a href="{url}">{name}</a>'
        else:
            who = f'<span class="text-muted">{name}</span>'
        empty = "" if line.has_data else (
            f' <span class="text-muted small">{escape(_("no statistics yet"))}</span>')
        spark = escape(f"{series_label}, {line.currency}")
        rows.append(
            f'<tr class="performance-line" data-currency="{currency}">'
            f'<td>{who} <span class="badge text-bg-light border">{currency}</span>{empty}</td>'
            f'<td>{_pacing_bar(line.pacing, line.currency)}'
            f'<span class="small">{escape(money(line.pacing.spend, line.currency))}</span></td>'
            f'<td class="text-end">{_budget(line)}</td>'
            f'<td>{_pacing_status(line.pacing)}</td>'
            f'<td class="text-end">{money(line.pacing.forecast)}</td>'
            f'{_figures(line.yesterday, line.yesterday_signals)}'
            f'{_figures(line.last_7_days, line.last_7_days_signals)}'
            f'<td class="border-start"><svg class="sparkline" viewBox="0 0 120 24" '
            f'preserveAspectRatio="none" role="img" aria-label="{spark}"><title>{spark}</title>'
            f'<polyline points="{sparkline_points(line.cost_series)}"/></svg></td></tr>')
    return Markup("".join(rows))


def _ascii(html: str) -> Markup:
    """`html` with every character beyond ASCII written as a character reference.

    The money filters separate thousands with U+202F: one such character turns a whole page
    into two bytes a character, which Python copies and encodes (to UTF-8) several times slower
    than ASCII; the dashboard's few hundred rows make that a good part of the page's time.
    """
    return Markup(html.encode("ascii", "xmlcharrefreplace").decode("ascii"))


def performance_table_rows(table: PerformanceTable, series_label: str) -> Markup:
    """`performance_rows` of the table's lines, drawn once per table: a table reused from the
    dashboard's cache keeps its rows with it (its lines, and so its rows, never change)."""
    key = f"rows:{series_label}:{current_locale()}"
    rows = table.fragments.get(key)
    if rows is None:
        rows = table.fragments[key] = _ascii(performance_rows(table.lines, series_label))
    return rows


def performance_body(table: PerformanceTable, tag: ClientAccountTag | None) -> Markup:
    """The charts and the table of the dashboard (`dashboard/_performance_body.html`), drawn
    once per table: a table reused from the dashboard's cache (computed for one tag) keeps it."""
    key = f"body:{tag.id if tag is not None else ''}:{current_locale()}"
    body = table.fragments.get(key)
    if body is None:
        body = table.fragments[key] = _ascii(render_template(
            "dashboard/_performance_body.html", table=table, tag=tag))
    return body
