from __future__ import annotations

import pytest
from sqlalchemy import select

from ppc_robot.lib.models import ClientAccountTag, Tag, client_accounts_tags, jobs_tags
from ppc_robot.lib.tags import (
    TagError,
    accounts_with_tag,
    create_tag,
    delete_tag,
    tags_with_usage,
    update_tag,
)
from tests.factories import make_job


@pytest.mark.parametrize("model", [Tag, ClientAccountTag])
def test_create_rename_recolour_and_clash(session, workspace, other_workspace, model):
    tag = create_tag(session, model, workspace.user, "  Key   account ", "#ABCDEF")
    create_tag(session, model, other_workspace.user, "Key account")  # others may use the name

    assert (tag.name, tag.colour) == ("Key account", "#abcdef")
    with pytest.raises(TagError, match="already exists"):
        create_tag(session, model, workspace.user, "key ACCOUNT")
    update_tag(session, tag, "VIP", "#000000")
    assert (tag.name, tag.colour) == ("VIP", "#000000")
    with pytest.raises(TagError) as refused:
        update_tag(session, tag, "VIP", "black")
    assert refused.value.field == "colour"


def test_usage_counts_and_delete_detaches_everywhere(session, workspace):
    make_job(session, workspace.user, workspace.folder, tags=[workspace.tag])
    unused = create_tag(session, Tag, workspace.user, "Unused")

    usage = dict((t.name, n) for t, n in tags_with_usage(session, Tag, workspace.user))
    account_usage = tags_with_usage(session, ClientAccountTag, workspace.user)

    assert usage == {workspace.tag.name: 2, "Unused": 0}
    assert account_usage == [(workspace.client_account_tag, 1)]
    assert accounts_with_tag(session, workspace.client_account_tag) == [workspace.client_account]

    tag_id = workspace.tag.id
    delete_tag(session, workspace.tag)
    delete_tag(session, workspace.client_account_tag)
    delete_tag(session, unused)
    assert session.scalar(select(jobs_tags.c.job_id).where(jobs_tags.c.tag_id == tag_id)) is None
    assert session.scalar(select(client_accounts_tags.c.tag_id)) is None
