"""names unique regardless of case; one open invite per address

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 23:10:00

Tags, client-account tags, clients (per user), folders (per parent), named job definitions (per
user) and plans get a unique index on lower(name). Names that already differ only in case are
kept apart first: the oldest row keeps its name, each later one gets " (2)", " (3)" … (the first
number free in its scope), so nothing is merged or lost. The earlier case-sensitive unique keys
stay: the new index implies them, and dropping one on SQLite would rebuild a table others refer to.

An address has at most one open (neither accepted nor revoked) invite: of several, the newest
stays open and the older ones are marked revoked.
"""
from alembic import op
import sqlalchemy as sa


revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

# table, scope columns, longest name, rows the rule covers (an empty definition name repeats)
NAMED = (
    ("robot_tags", ("user_id",), 64, None),
    ("robot_client_account_tags", ("user_id",), 64, None),
    ("robot_clients", ("user_id",), 200, None),
    ("robot_folders", ("parent_id",), 100, None),
    ("robot_job_definitions", ("user_id",), 200, "name <> ''"),
    ("web_plans", (), 64, None),
)


def _free(name, used, max_length):
    n = 1
    candidate = name
    while candidate.lower() in used:
        n += 1
        suffix = f" ({n})"
        candidate = name[: max_length - len(suffix)] + suffix
    return candidate


def _rename_case_duplicates(connection, table, scope, max_length, where):
    columns = ", ".join(("id", *scope, "name"))
    condition = f" WHERE {where}" if where else ""
    rows = connection.execute(sa.text(f"SELECT {columns} FROM {table}{condition} ORDER BY id")).all()
    used = {}
    for row in rows:
        used.setdefault(tuple(row[1:-1]), set()).add(row[-1].lower())
    seen = {}
    for row in rows:
        key, name = tuple(row[1:-1]), row[-1]
        kept = seen.setdefault(key, set())
        if name.lower() not in kept:
            kept.add(name.lower())
            continue
        new_name = _free(name, used[key], max_length)
        used[key].add(new_name.lower())
        kept.add(new_name.lower())
        connection.execute(sa.text(f"UPDATE {table} SET name = :name WHERE id = :id"),
                           {"name": new_name, "id": row[0]})


def upgrade():
    connection = op.get_bind()
    for table, scope, max_length, where in NAMED:
        _rename_case_duplicates(connection, table, scope, max_length, where)
        partial = {"sqlite_where": sa.text(where), "postgresql_where": sa.text(where)} if where else {}
        op.create_index(f"uq_{table}_lower_name", table, [*scope, sa.text("lower(name)")],
                        unique=True, **partial)
    _revoke_older_open_invites(connection)
    op.create_index("uq_web_invites_open_email", "web_invites", ["email"], unique=True,
                    sqlite_where=sa.text(OPEN_INVITE), postgresql_where=sa.text(OPEN_INVITE))


OPEN_INVITE = "accepted_at IS NULL AND revoked_at IS NULL"


def _revoke_older_open_invites(connection):
    rows = connection.execute(sa.text(
        f"SELECT id, lower(email) FROM web_invites WHERE {OPEN_INVITE} ORDER BY id DESC")).all()
    newest = set()
    for invite_id, email in rows:
        if email in newest:
            connection.execute(sa.text("UPDATE web_invites SET revoked_at = created_at "
                                       "WHERE id = :id"), {"id": invite_id})
        newest.add(email)


def downgrade():
    op.drop_index("uq_web_invites_open_email", table_name="web_invites")
    # The numbered names stay: they are valid names, and which row had which is not recorded.
    for table, _scope, _max_length, _where in reversed(NAMED):
        op.drop_index(f"uq_{table}_lower_name", table_name=table)
