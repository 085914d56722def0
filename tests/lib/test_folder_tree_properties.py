"""Random sequences of tree changes never break the closure table (Hypothesis state machine)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from ppc_robot.lib.folders import (
    FolderError,
    create_folder,
    delete_folder,
    move_folder,
    rename_folder,
    root_folder,
)
from ppc_robot.lib.models import Folder
from tests.conftest import empty_all_tables
from tests.factories import make_job, make_user
from tests.lib.test_folders import closure_problems

NAMES = st.sampled_from(["A", "B", "C", "Reports", "Clients"])


@pytest.fixture
def tree_machine(engine, app):
    from ppc_robot.lib.db import make_session_factory

    factory = make_session_factory(engine)

    class FolderTree(RuleBasedStateMachine):
        @initialize()
        def start(self):
            empty_all_tables(engine)
            self.session = factory()
            self.users = [make_user(self.session), make_user(self.session)]
            self.session.commit()

        def folders(self):
            return self.session.query(Folder).order_by(Folder.id).all()

        def pick(self, data, **filters):
            folders = [f for f in self.folders() if all(getattr(f, k) == v for k, v in filters.items())]
            return data.draw(st.sampled_from(folders)) if folders else None

        def attempt(self, change):
            try:
                change()
            except FolderError:
                self.session.rollback()
            else:
                self.session.commit()

        @rule(data=st.data(), name=NAMES)
        def create(self, data, name):
            parent = self.pick(data)
            self.attempt(lambda: create_folder(self.session, parent, name))

        @rule(data=st.data(), name=NAMES)
        def rename(self, data, name):
            folder = self.pick(data)
            self.attempt(lambda: rename_folder(self.session, folder, name))

        @rule(data=st.data())
        def move(self, data):
            folder, target = self.pick(data), self.pick(data)
            self.attempt(lambda: move_folder(self.session, folder, target))

        @rule(data=st.data(), up=st.booleans())
        def delete(self, data, up):
            folder = self.pick(data)
            self.attempt(lambda: delete_folder(self.session, folder, move_contents_up=up))

        @rule(data=st.data())
        def add_job(self, data):
            folder = self.pick(data)
            owner = next(u for u in self.users if u.id == folder.user_id)
            make_job(self.session, owner, folder)
            self.session.commit()

        @invariant()
        def closure_matches_parent_links(self):
            if hasattr(self, "session"):
                assert closure_problems(self.session) == []
                for user in self.users:
                    assert root_folder(self.session, user).parent_id is None

        def teardown(self):
            if hasattr(self, "session"):
                self.session.close()

    return FolderTree


def test_random_tree_changes_keep_the_closure_consistent(tree_machine):
    tree_machine.TestCase.settings = settings(
        max_examples=40, stateful_step_count=30, deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    tree_machine.TestCase().runTest()
