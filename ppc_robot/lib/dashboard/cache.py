"""The dashboard's per-process cache of computed tables, and the inputs that key them."""

from __future__ import annotations

import functools
import threading
from collections import OrderedDict
from collections.abc import Hashable
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Integer,
    bindparam,
    exists,
    func,
    inspect,
    literal,
    literal_column,
    select,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.orm import Session

from ppc_robot.lib.dashboard.lines import PerformanceTable
from ppc_robot.lib.models import (
    Client,
    ClientAccount,
    StatsState,
    client_accounts_tags,
)


class TableCache:
    """Computed performance tables, the newest `size` (user, date, tag, sort) kept, each with
    the inputs it was computed from (thread-safe; one per process)."""

    def __init__(self, size: int = 64) -> None:
        self.size = size
        self._entries: OrderedDict[Hashable, tuple[Hashable, PerformanceTable, datetime]] = (
            OrderedDict())
        self._lock = threading.Lock()

    def get(self, key: Hashable, inputs: Hashable) -> tuple[PerformanceTable, datetime] | None:
        """The table computed from `inputs` (and when its freshness was read), if kept."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if entry[0] != inputs:
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return entry[1], entry[2]

    def put(self, key: Hashable, inputs: Hashable, table: PerformanceTable,
            read_at: datetime) -> None:
        with self._lock:
            self._entries[key] = (inputs, table, read_at)
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def _row_version(table: Any) -> Any:
    """PostgreSQL's version of a row: `xmin`, the transaction that wrote it, new at every insert
    and update (the version counter SQLAlchemy's and Npgsql's documentation suggest)."""
    return literal_column(f"{table.name}.xmin")


@functools.cache
def _inputs_statement(tagged: bool, dialect: str) -> Any:
    """The statement of `table_inputs`, built once per dialect (bound `user_id` and `tag_id`):
    the clients' rows and the accounts' rows, each folded into one text by the database.

    SQLite folds the columns the table depends on, a JSON array per row. PostgreSQL folds each
    row's id and version instead, half the work: formatting 500 accounts' timestamps as text
    was the dashboard's most expensive statement there. (A row written again by the reading
    transaction itself would keep its version; the dashboard's request writes none of them.)
    """
    user_id = bindparam("user_id", type_=Integer)
    tag: list[Any] = [exists().where(
        client_accounts_tags.c.client_account_id == ClientAccount.id,
        client_accounts_tags.c.tag_id == bindparam("tag_id", type_=Integer))
        .correlate(ClientAccount)] if tagged else []
    if dialect == "postgresql":
        client_row = func.concat_ws(":", Client.id, _row_version(Client.__table__))
        account_row = func.concat_ws(":", ClientAccount.id, _row_version(ClientAccount.__table__),
                                     _row_version(StatsState.__table__), *tag)
    else:
        client_row = func.json_array(Client.id, *(
            c for c in Client.__table__.columns if c.key not in ("id", "user_id", "created_at")))
        account_row = func.json_array(
            ClientAccount.id, ClientAccount.client_id, ClientAccount.currency,
            ClientAccount.status, ClientAccount.updated_at, StatsState.refreshed_at,
            StatsState.refreshed_through, StatsState.backfill_done_from,
            StatsState.last_error_at, *tag)
    clients = select(client_row.label("row"), Client.id.label("id")).where(
        Client.user_id == user_id)
    accounts = (select(account_row.label("row"), ClientAccount.id.label("id"))
                .select_from(ClientAccount)
                .outerjoin(StatsState, StatsState.client_account_id == ClientAccount.id)
                .where(ClientAccount.user_id == user_id))

    def folded(rows: Any) -> Any:
        if dialect == "postgresql":
            rows = rows.subquery()
            return select(func.string_agg(rows.c.row, aggregate_order_by(
                literal(";"), rows.c.id))).scalar_subquery()
        # SQLite concatenates in the order its subquery hands the rows (only a cache miss
        # if it ever did not).
        rows = rows.order_by("id").subquery()
        return select(func.group_concat(rows.c.row, ";")).scalar_subquery()

    return select(folded(clients), folded(accounts))


def table_inputs(session: Session, user_id: int, tag_id: int | None) -> Hashable:
    """Everything the table's figures depend on besides the date and the sort, exactly, as
    text (one statement, one row): the goals of the user's clients; per account its client,
    currency, status and last change, its store state (last refresh, backfill progress, last
    failure) and whether it carries the tag. On PostgreSQL, the versions of those rows."""
    statement = _inputs_statement(tag_id is not None, session.get_bind().dialect.name)
    return tuple(session.connection().execute(
        statement, {"user_id": user_id, "tag_id": tag_id}).one())


def detached_copy(client: Client) -> Client:
    """A transient copy of `client`'s columns: a cached line outlives the session it was read
    in, and must not change with (or expire with) the session's instance."""
    return Client(**{attr.key: getattr(client, attr.key)
                     for attr in inspect(Client).column_attrs})
