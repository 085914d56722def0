from __future__ import annotations

import pytest
from sqlalchemy import select

from ppc_robot.lib.folders import (
    FolderError,
    ancestors,
    create_folder,
    delete_folder,
    descendants,
    folder_tree,
    move_folder,
    rename_folder,
    root_folder,
    surroundings,
)
from ppc_robot.lib.models import Folder, FolderPath, Job
from tests.factories import make_job, make_user


def closure_problems(session, user_id=None):
    """Differences between the closure table and the one computed from the parent links."""
    folders = session.execute(select(Folder.id, Folder.parent_id, Folder.user_id)).all()
    parent = {f.id: f.parent_id for f in folders}
    owner = {f.id: f.user_id for f in folders}
    expected = set()
    for folder_id in parent:
        node, depth, seen = folder_id, 0, set()
        while node is not None:
            assert node not in seen, f"cycle through folder {node}"
            seen.add(node)
            expected.add((node, folder_id, depth))
            node, depth = parent[node], depth + 1
    actual = set(session.execute(select(FolderPath.ancestor_id, FolderPath.descendant_id, FolderPath.depth)).all())
    problems = [f"missing {row}" for row in expected - actual]
    problems += [f"extra {row}" for row in actual - expected]
    problems += [f"mixed owners {row}" for row in actual if owner.get(row[0]) != owner.get(row[1])]
    return problems


def chain(session, parent, depth, prefix="Level"):
    """Folders nested `depth` deep under `parent`; returns them top-down."""
    made = []
    for level in range(1, depth + 1):
        parent = create_folder(session, parent, f"{prefix} {level}")
        made.append(parent)
    return made


@pytest.fixture
def owner(session):
    user = make_user(session)
    session.commit()
    return user


def test_every_user_gets_one_root_folder(session, owner):
    first = root_folder(session, owner)

    again = root_folder(session, owner)

    assert first.id == again.id
    assert first.is_root
    assert session.scalars(select(Folder).where(Folder.user_id == owner.id)).all() == [first]


@pytest.mark.parametrize("depth", [1, 6, 8])
def test_ancestors_are_the_path_from_the_root(session, owner, depth):
    root = root_folder(session, owner)
    made = chain(session, root, depth)

    path = ancestors(session, made[-1])

    assert [f.id for f in path] == [root.id] + [f.id for f in made]
    assert closure_problems(session) == []


def test_descendants_of_a_deep_tree_nearest_first(session, owner):
    root = root_folder(session, owner)
    made = chain(session, root, 7)
    side = create_folder(session, made[1], "Side")

    below = descendants(session, made[1])

    assert [f.id for f in below] == [made[2].id, side.id] + [f.id for f in made[3:]] or \
        [f.id for f in below] == [side.id, made[2].id] + [f.id for f in made[3:]]
    assert {f.id for f in descendants(session, made[1], include_self=True)} == {made[1].id, side.id} | {f.id for f in made[2:]}


def test_ancestors_and_descendants_take_one_query_each(session, owner, count_queries):
    made = chain(session, root_folder(session, owner), 6)
    session.commit()

    with count_queries() as up:
        ancestors(session, made[-1])
    with count_queries() as down:
        descendants(session, made[0])

    assert up.count == 1
    assert down.count == 1


def test_surroundings_are_the_path_down_and_the_children_by_name_in_one_query(session, owner, count_queries):
    root = root_folder(session, owner)
    made = chain(session, root, 4)
    children = [create_folder(session, made[1], name) for name in ("beta", "Alpha", "gamma")]
    create_folder(session, children[0], "Grandchild")
    stranger = root_folder(session, make_user(session))
    create_folder(session, stranger, "Theirs")
    session.commit()

    with count_queries() as counted:
        path, below = surroundings(session, made[1])
    top_path, top_children = surroundings(session, root)
    leaf_path, leaf_children = surroundings(session, made[-1])

    assert counted.count == 1
    assert [f.id for f in path] == [root.id, made[0].id, made[1].id]
    assert [f.name for f in below] == ["Alpha", "beta", "gamma", "Level 3"]
    assert ([f.id for f in top_path], [f.id for f in top_children]) == ([root.id], [made[0].id])
    assert ([f.id for f in leaf_path][-1], leaf_children) == (made[-1].id, [])
    assert (path[-1].id, path[-1].name) == (made[1].id, made[1].name)


def test_sibling_with_the_same_name_is_refused(session, owner):
    root = root_folder(session, owner)
    create_folder(session, root, "Clients")

    with pytest.raises(FolderError, match="already exists"):
        create_folder(session, root, "  Clients ")


@pytest.mark.parametrize("name, message", [("", "Give the folder a name"), ("   ", "Give the folder a name"), ("x" * 101, "100 characters")])
def test_empty_or_too_long_names_are_refused(session, owner, name, message):
    with pytest.raises(FolderError, match=message):
        create_folder(session, root_folder(session, owner), name)


def test_the_same_name_in_different_parents_is_fine(session, owner):
    root = root_folder(session, owner)
    a = create_folder(session, root, "A")
    b = create_folder(session, root, "B")

    create_folder(session, a, "Reports")
    create_folder(session, b, "Reports")

    assert closure_problems(session) == []


def test_rename_refuses_a_sibling_name_and_allows_its_own(session, owner):
    root = root_folder(session, owner)
    a = create_folder(session, root, "A")
    create_folder(session, root, "B")

    rename_folder(session, a, "A")
    with pytest.raises(FolderError, match="already exists"):
        rename_folder(session, a, "B")


def test_moving_a_deep_subtree_rewrites_the_closure(session, owner):
    root = root_folder(session, owner)
    left = chain(session, root, 6, "Left")
    right = chain(session, root, 6, "Right")

    move_folder(session, left[2], right[5])

    assert [f.name for f in ancestors(session, left[5])] == (
        ["Home"] + [f"Right {n}" for n in range(1, 7)] + [f"Left {n}" for n in range(3, 7)]
    )
    assert [f.id for f in descendants(session, left[1])] == []
    assert closure_problems(session) == []


@pytest.mark.parametrize("target_level", [0, 1, 5])
def test_moving_into_itself_or_a_descendant_is_refused(session, owner, target_level):
    made = chain(session, root_folder(session, owner), 7)
    folder = made[1]
    before = closure_problems(session)

    with pytest.raises(FolderError, match="into itself or one of its sub-folders"):
        move_folder(session, folder, made[1 + target_level])

    assert folder.parent_id == made[0].id
    assert before == closure_problems(session) == []


def test_moving_next_to_a_folder_of_the_same_name_is_refused(session, owner):
    root = root_folder(session, owner)
    a = create_folder(session, root, "A")
    b = create_folder(session, root, "B")
    create_folder(session, b, "Reports")
    reports = create_folder(session, a, "Reports")

    with pytest.raises(FolderError, match="already exists"):
        move_folder(session, reports, b)

    assert reports.parent_id == a.id


def test_the_root_cannot_be_moved_or_deleted(session, owner):
    root = root_folder(session, owner)
    child = create_folder(session, root, "Child")

    with pytest.raises(FolderError, match="cannot be moved"):
        move_folder(session, root, child)
    with pytest.raises(FolderError, match="cannot be deleted"):
        delete_folder(session, root)


def test_moving_into_another_users_tree_is_refused(session, owner):
    stranger = make_user(session)
    mine = create_folder(session, root_folder(session, owner), "Mine")

    with pytest.raises(FolderError, match="your own folders"):
        move_folder(session, mine, root_folder(session, stranger))


def test_deleting_an_empty_folder(session, owner):
    root = root_folder(session, owner)
    empty = create_folder(session, root, "Empty")

    delete_folder(session, empty)

    assert session.get(Folder, empty.id) is None
    assert closure_problems(session) == []


def test_a_folder_with_contents_is_kept_unless_they_move_up(session, owner):
    root = root_folder(session, owner)
    made = chain(session, root, 6)
    make_job(session, owner, made[2])

    with pytest.raises(FolderError, match="not empty"):
        delete_folder(session, made[2])
    with pytest.raises(FolderError, match="not empty"):
        delete_folder(session, made[1])

    assert session.get(Folder, made[2].id) is not None


def test_deleting_with_contents_moves_them_to_the_parent(session, owner):
    root = root_folder(session, owner)
    made = chain(session, root, 6)
    job = make_job(session, owner, made[2])
    create_folder(session, made[2], "Sibling")

    delete_folder(session, made[2], move_contents_up=True)
    session.expire_all()

    assert session.get(Folder, made[2].id) is None
    assert session.get(Job, job.id).folder_id == made[1].id
    assert {f.name for f in descendants(session, made[1])} >= {"Level 4", "Sibling", "Level 6"}
    assert [f.name for f in ancestors(session, made[5])] == ["Home", "Level 1", "Level 2", "Level 4", "Level 5", "Level 6"]
    assert closure_problems(session) == []


def test_moving_contents_up_refuses_a_name_clash_and_changes_nothing(session, owner):
    root = root_folder(session, owner)
    a = create_folder(session, root, "A")
    create_folder(session, root, "Reports")
    create_folder(session, a, "Reports")
    session.commit()

    with pytest.raises(FolderError, match="already has a folder called “Reports”"):
        delete_folder(session, a, move_contents_up=True)
    session.rollback()

    assert session.get(Folder, a.id) is not None
    assert closure_problems(session) == []


def test_folder_tree_is_in_tree_order_with_depths(session, owner):
    root = root_folder(session, owner)
    b = create_folder(session, root, "B")
    a = create_folder(session, root, "a")
    create_folder(session, b, "B1")
    create_folder(session, a, "A1")

    tree = folder_tree(session, owner)

    assert [(f.name, depth) for f, depth in tree] == [("Home", 0), ("a", 1), ("A1", 2), ("B", 1), ("B1", 2)]
