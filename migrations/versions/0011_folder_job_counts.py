"""folders count their own jobs

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-25 20:50:00

robot_folders.job_count, kept by triggers on robot_jobs (the statements are those of
ppc_robot/lib/models/jobs.py at this revision, frozen here as a migration must be): a page of
a large folder reads its total instead of counting every job.
"""
from alembic import op
import sqlalchemy as sa


revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

TRIGGERS = {
    "sqlite": (
        """CREATE TRIGGER robot_jobs_count_insert AFTER INSERT ON robot_jobs BEGIN
            UPDATE robot_folders SET job_count = job_count + 1 WHERE id = NEW.folder_id; END""",
        """CREATE TRIGGER robot_jobs_count_delete AFTER DELETE ON robot_jobs BEGIN
            UPDATE robot_folders SET job_count = job_count - 1 WHERE id = OLD.folder_id; END""",
        """CREATE TRIGGER robot_jobs_count_move AFTER UPDATE OF folder_id ON robot_jobs
            WHEN OLD.folder_id IS NOT NEW.folder_id BEGIN
            UPDATE robot_folders SET job_count = job_count - 1 WHERE id = OLD.folder_id;
            UPDATE robot_folders SET job_count = job_count + 1 WHERE id = NEW.folder_id; END""",
    ),
    "postgresql": (
        """CREATE OR REPLACE FUNCTION robot_jobs_count() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP IN ('UPDATE', 'DELETE') THEN
                UPDATE robot_folders SET job_count = job_count - 1 WHERE id = OLD.folder_id;
            END IF;
            IF TG_OP IN ('INSERT', 'UPDATE') THEN
                UPDATE robot_folders SET job_count = job_count + 1 WHERE id = NEW.folder_id;
            END IF;
            RETURN NULL;
        END $$""",
        """CREATE TRIGGER robot_jobs_count_insert_delete AFTER INSERT OR DELETE ON robot_jobs
            FOR EACH ROW EXECUTE FUNCTION robot_jobs_count()""",
        """CREATE TRIGGER robot_jobs_count_move AFTER UPDATE OF folder_id ON robot_jobs
            FOR EACH ROW WHEN (OLD.folder_id IS DISTINCT FROM NEW.folder_id)
            EXECUTE FUNCTION robot_jobs_count()""",
    ),
}
DROPS = {
    "sqlite": ("DROP TRIGGER robot_jobs_count_insert", "DROP TRIGGER robot_jobs_count_delete",
               "DROP TRIGGER robot_jobs_count_move"),
    "postgresql": ("DROP TRIGGER robot_jobs_count_insert_delete ON robot_jobs",
                   "DROP TRIGGER robot_jobs_count_move ON robot_jobs",
                   "DROP FUNCTION robot_jobs_count()"),
}


def upgrade():
    # A plain ADD COLUMN (no table rebuild, which the folders' many references would refuse).
    op.add_column("robot_folders",
                  sa.Column("job_count", sa.Integer(), server_default=sa.text("0"), nullable=False))
    op.execute("UPDATE robot_folders SET job_count = "
               "(SELECT count(*) FROM robot_jobs WHERE robot_jobs.folder_id = robot_folders.id)")
    for statement in TRIGGERS[op.get_bind().dialect.name]:
        op.execute(sa.DDL(statement))


def downgrade():
    for statement in DROPS[op.get_bind().dialect.name]:
        op.execute(statement)
    # DROP COLUMN in place (SQLite 3.35+), not batch mode's rebuild of a referenced table.
    op.execute("ALTER TABLE robot_folders DROP COLUMN job_count")
