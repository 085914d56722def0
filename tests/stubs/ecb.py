"""A stand-in for the ECB's euro reference rate feeds on loopback, in their gesmes XML.

`rates[day][currency]` are the published rates; the stand-in serves eurofxref-daily.xml (the
latest day), eurofxref-hist-90d.xml (the 90 days up to it) and eurofxref-hist.xml (all),
newest day first, as the ECB does. Days the ECB publishes nothing on (weekends, TARGET
holidays) are simply absent.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from tests.stubs.base import Request, Response, StubServer

HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<gesmes:Envelope xmlns:gesmes="http://www.gesmes.org/xml/2002-08-01" xmlns="http://www.ecb.int/vocabulary/2002-08-01/eurofxref">
\t<gesmes:subject>Reference rates</gesmes:subject>
\t<gesmes:Sender>
\t\t<gesmes:name>European Central Bank</gesmes:name>
\t</gesmes:Sender>
\t<Cube>
"""
TAIL = "\t</Cube>\n</gesmes:Envelope>"
# 2026's TARGET holidays besides weekends: New Year, Good Friday, Easter Monday, Labour Day,
# Christmas Day and the day after.
TARGET_HOLIDAYS_2026 = {date(2026, 1, 1), date(2026, 4, 3), date(2026, 4, 6), date(2026, 5, 1),
                        date(2026, 12, 25), date(2026, 12, 26)}


def is_target_day(day: date) -> bool:
    return day.weekday() < 5 and day not in TARGET_HOLIDAYS_2026


def feed_xml(rates: dict[date, dict[str, Decimal]]) -> bytes:
    """The ECB's XML for these days, newest first."""
    lines = [HEAD]
    for day in sorted(rates, reverse=True):
        lines.append(f"\t\t<Cube time='{day.isoformat()}'>\n")
        lines += [f"\t\t\t<Cube currency='{currency}' rate='{rate}'/>\n"
                  for currency, rate in rates[day].items()]
        lines.append("\t\t</Cube>\n")
    lines.append(TAIL)
    return "".join(lines).encode("utf-8")


class EcbStub(StubServer):
    """`rates` as the ECB has published them so far; `down` answers every request with 503."""

    def __init__(self, rates: dict[date, dict[str, Decimal]] | None = None) -> None:
        super().__init__()
        self.rates: dict[date, dict[str, Decimal]] = dict(rates or {})
        self.down = False

    def publish(self, first: date, last: date, rates: dict[str, Decimal],
                *, step: dict[str, Decimal] | None = None) -> None:
        """Rates on every TARGET day from `first` to `last`, each currency's moving by `step`
        a published day (so every day's rate differs)."""
        day, n = first, 0
        while day <= last:
            if is_target_day(day):
                self.rates[day] = {c: r + (step or {}).get(c, Decimal(0)) * n for c, r in rates.items()}
                n += 1
            day += timedelta(days=1)

    def handle(self, request: Request) -> Response:
        if self.down:
            return Response(503, b"Service Unavailable")
        feed = request.path.rsplit("/", 1)[-1]
        if not self.rates:
            return Response(404, b"Not Found")
        latest = max(self.rates)
        if feed == "eurofxref-daily.xml":
            chosen = {latest: self.rates[latest]}
        elif feed == "eurofxref-hist-90d.xml":
            chosen = {d: r for d, r in self.rates.items() if d > latest - timedelta(days=90)}
        elif feed == "eurofxref-hist.xml":
            chosen = dict(self.rates)
        else:
            return Response(404, b"Not Found")
        return Response(200, feed_xml(chosen), {"Content-Type": "text/xml"})
