"""Jobs and their definitions: editing, bulk changes and the lists pages show.

Nothing here commits.
"""

from __future__ import annotations

from ppc_robot.lib.jobs.bulk import (
    jobs_of_user,
    move_jobs,
    set_jobs_enabled,
    tag_jobs,
    untag_jobs,
)
from ppc_robot.lib.jobs.definitions import (
    DefinitionSettings,
    DefinitionUse,
    JobError,
    create_definition,
    definition_job_count,
    definitions_with_jobs,
    update_definition,
)
from ppc_robot.lib.jobs.editing import (
    JobSettings,
    clean_output_path,
    client_account_choices,
    create_job,
    delete_job,
    detach_job,
    duplicate_job,
    job_with_parts,
    save_job,
)
from ppc_robot.lib.jobs.levels import (
    JobAccounts,
    accounts_label,
    accounts_of_job,
    accounts_read_count,
    accounts_warning,
    client_choices,
    login_choices,
    login_label,
)
from ppc_robot.lib.jobs.listing import (
    PER_PAGE,
    JobPage,
    JobRow,
    folder_jobs,
    jobs_below,
    search_jobs,
    user_tags,
)

__all__ = [
    "PER_PAGE",
    "DefinitionSettings",
    "DefinitionUse",
    "JobAccounts",
    "JobError",
    "JobPage",
    "JobRow",
    "JobSettings",
    "accounts_label",
    "accounts_warning",
    "accounts_of_job",
    "accounts_read_count",
    "clean_output_path",
    "client_account_choices",
    "client_choices",
    "create_definition",
    "create_job",
    "definition_job_count",
    "definitions_with_jobs",
    "delete_job",
    "detach_job",
    "duplicate_job",
    "folder_jobs",
    "job_with_parts",
    "jobs_below",
    "jobs_of_user",
    "login_choices",
    "login_label",
    "move_jobs",
    "save_job",
    "search_jobs",
    "set_jobs_enabled",
    "tag_jobs",
    "untag_jobs",
    "update_definition",
    "user_tags",
]
