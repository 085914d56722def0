"""Reading the days anomaly detection compares from the statistics store, in constant queries.

Three or four queries per 500 accounts whatever the number of campaigns: the accounts' days,
the campaigns' days (only the weekdays compared, through the campaign rows' account-and-day
index), the campaigns' names yesterday and, for campaigns without a row yesterday, their
newest name. Values come as the driver gives them into one polars frame; a
campaign missing on a day its account has counts as zero that day, from its first day read.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import polars as pl
from sqlalchemy import Float, cast, func, literal, select
from sqlalchemy.orm import Session

from ppc_robot.lib.alerts.anomalies import KEY, SCHEMA, Entity, StoredDays, compared_days
from ppc_robot.lib.models.stats import AccountDay, CampaignDay

BATCH = 500


@dataclass(frozen=True)
class AccountInfo:
    client_account_id: int
    name: str
    currency: str


def _frame(session: Session, statement: Any) -> pl.DataFrame:
    """The statement's rows as the driver gives them, without SQLAlchemy's per-value
    processing (a quarter of a million rows at 500 accounts). Its values are ids and dates
    of ours, bound as literals: no user text reaches this SQL."""
    connection = session.connection()
    sql = str(statement.compile(dialect=connection.dialect,
                                compile_kwargs={"literal_binds": True}))
    rows = connection.exec_driver_sql(sql).fetchall()
    as_text = bool(rows) and isinstance(rows[0][2], str)  # SQLite keeps dates as ISO text
    frame = pl.DataFrame(rows, schema=SCHEMA | {"day": pl.String if as_text else pl.Date},
                         orient="row")
    return frame.with_columns(pl.col("day").str.to_date()) if as_text else frame


def _metrics(model: Any) -> list[Any]:
    return [model.cost_micros, model.clicks, model.impressions,
            cast(model.conversions, Float)]


def read_days(session: Session, accounts: Sequence[AccountInfo], yesterday: date,
              weeks: int) -> StoredDays:
    """The accounts' and their campaigns' days compared with `yesterday`, and yesterday."""
    days = compared_days(yesterday, weeks) + [yesterday]
    frames: list[pl.DataFrame] = []
    entities: dict[tuple[int, str], Entity] = {}
    for start in range(0, len(accounts), BATCH):
        batch = {a.client_account_id: a for a in accounts[start:start + BATCH]}
        ids = list(batch)
        account_days = _frame(session, select(
            AccountDay.client_account_id, literal(""), AccountDay.day, *_metrics(AccountDay))
            .where(AccountDay.client_account_id.in_(ids), AccountDay.day.in_(days)))
        campaign_days = _frame(session, select(
            CampaignDay.client_account_id, CampaignDay.campaign_id, CampaignDay.day,
            *_metrics(CampaignDay))
            .where(CampaignDay.client_account_id.in_(ids), CampaignDay.day.in_(days)))
        # Names as shown yesterday; a campaign without a row yesterday keeps its newest name.
        names = session.connection().execute(select(
            CampaignDay.client_account_id, CampaignDay.campaign_id, CampaignDay.campaign_name)
            .where(CampaignDay.client_account_id.in_(ids), CampaignDay.day == yesterday)).all()
        named = {(account_id, campaign_id) for account_id, campaign_id, _name in names}
        unnamed = campaign_days.select(KEY).unique().filter(
            ~pl.struct(KEY).is_in([{"client_account_id": a, "campaign_id": c} for a, c in named]))
        if unnamed.height:
            newest = (select(CampaignDay.client_account_id, CampaignDay.campaign_id,
                             func.max(CampaignDay.day).label("day"))
                      .where(CampaignDay.client_account_id.in_(
                          unnamed.get_column("client_account_id").unique().to_list()),
                             CampaignDay.day.in_(days))
                      .group_by(CampaignDay.client_account_id, CampaignDay.campaign_id)
                      .subquery())
            names += session.connection().execute(select(
                CampaignDay.client_account_id, CampaignDay.campaign_id,
                CampaignDay.campaign_name).join(newest, (
                    newest.c.client_account_id == CampaignDay.client_account_id)
                    & (newest.c.campaign_id == CampaignDay.campaign_id)
                    & (newest.c.day == CampaignDay.day))).all()
        for info in batch.values():
            entities[(info.client_account_id, "")] = Entity(
                info.client_account_id, info.name, info.currency)
        for account_id, campaign_id, name in names:
            info = batch[account_id]
            entities[(account_id, campaign_id)] = Entity(
                account_id, info.name, info.currency, campaign_id, name)
        first = campaign_days.group_by(KEY).agg(pl.col("day").min().alias("first"))
        filled = (first.join(account_days.select("client_account_id", "day"),
                             on="client_account_id")
                  .filter(pl.col("day") >= pl.col("first")).drop("first")
                  .join(campaign_days, on=[*KEY, "day"], how="left").fill_null(0)
                  .select(list(SCHEMA)))
        frames += [account_days, filled]
    frame = pl.concat(frames) if frames else pl.DataFrame(schema=SCHEMA)
    return StoredDays(frame, entities)
