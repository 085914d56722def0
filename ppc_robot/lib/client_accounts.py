"""Client accounts as the user works with them: the filtered list, and their tags."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from ppc_robot.lib.models import (
    ClientAccount,
    ClientAccountStatus,
    ClientAccountTag,
    Platform,
    ServiceAccount,
    User,
)


@dataclass(frozen=True)
class ClientAccountFilter:
    """The filters of the client-account list; None means any."""

    platform: Platform | None = None
    service_account_id: int | None = None
    tag_id: int | None = None
    status: ClientAccountStatus | None = None
    client_id: int | None = None


def client_accounts_of(session: Session, user: User,
                       filters: ClientAccountFilter | None = None) -> Sequence[ClientAccount]:
    """The user's client accounts matching `filters`, with login, client and tags loaded."""
    filters = filters or ClientAccountFilter()
    stmt = (
        select(ClientAccount).join(ClientAccount.service_account)
        .where(ClientAccount.owned_by(user.id))
        .options(selectinload(ClientAccount.tags), selectinload(ClientAccount.client),
                 selectinload(ClientAccount.service_account))
        .order_by(ClientAccount.name, ClientAccount.id)
    )
    if filters.platform is not None:
        stmt = stmt.where(ServiceAccount.platform == filters.platform)
    if filters.service_account_id is not None:
        stmt = stmt.where(ClientAccount.service_account_id == filters.service_account_id)
    if filters.status is not None:
        stmt = stmt.where(ClientAccount.status == filters.status)
    if filters.client_id is not None:
        stmt = stmt.where(ClientAccount.client_id == filters.client_id)
    if filters.tag_id is not None:
        stmt = stmt.where(ClientAccount.tags.any(ClientAccountTag.id == filters.tag_id))
    return session.scalars(stmt).all()


def client_account_tags_of(session: Session, user: User) -> Sequence[ClientAccountTag]:
    """The user's client-account tags by name."""
    return session.scalars(select(ClientAccountTag).where(ClientAccountTag.owned_by(user.id))
                           .order_by(ClientAccountTag.name)).all()


def owned_client_accounts(session: Session, user: User, ids: Sequence[int]) -> Sequence[ClientAccount]:
    """Those of `ids` that are the user's client accounts (others are silently dropped)."""
    if not ids:
        return []
    return session.scalars(select(ClientAccount).where(
        ClientAccount.owned_by(user.id), ClientAccount.id.in_(ids))
        .options(selectinload(ClientAccount.tags))).all()


def tag_client_accounts(session: Session, accounts: Sequence[ClientAccount],
                        tag: ClientAccountTag, *, add: bool = True) -> int:
    """Add `tag` to (or take it off) every account; returns how many changed."""
    changed = 0
    for account in accounts:
        if account.user_id != tag.user_id:
            raise ValueError("tag and client account belong to different users")
        if add and tag not in account.tags:
            account.tags.append(tag)
            changed += 1
        elif not add and tag in account.tags:
            account.tags.remove(tag)
            changed += 1
    session.flush()
    return changed


def set_client_account_tags(session: Session, account: ClientAccount,
                            tags: Sequence[ClientAccountTag]) -> None:
    """Give the account exactly these tags."""
    if any(tag.user_id != account.user_id for tag in tags):
        raise ValueError("tag and client account belong to different users")
    account.tags = list(tags)
    session.flush()
