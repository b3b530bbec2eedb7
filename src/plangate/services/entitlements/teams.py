"""Team memberships and seats.

A team's seat limit is its balance of the item ``seats``. Seats are enforced when the catalog
gives seats to teams (some team product includes the item) or when one of the team's own
products does; a catalog that never mentions seats for teams leaves team size unlimited. So
an app that sells seats should give its teams a default product with some (the example
catalog's ``team_free`` has 3): a team holding no seats then has room for nobody.

Adding a member counts members and reads the seat balance with the team customer's row
locked, so two concurrent adds at the last seat can't both pass the check.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from plangate.domain.catalog import Catalog
from plangate.errors import Conflict, NotFound
from plangate.services.access.identity import Role
from plangate.services.entitlements import ledger
from plangate.services.entitlements.customers import CustomerRef, lock_customer
from plangate.services.entitlements.ownership import product_of, settle_customer
from plangate.store.models import TeamMember

SEATS_ITEM = "seats"


def team_ref(team_id: str) -> CustomerRef:
    return CustomerRef("team", team_id)


def member_role(session: Session, team_id: str, user_id: str) -> Role | None:
    role = session.execute(
        select(TeamMember.role).where(TeamMember.team_id == team_id, TeamMember.user_id == user_id)
    ).scalar_one_or_none()
    return "admin" if role == "admin" else ("member" if role is not None else None)


def list_members(session: Session, team_id: str) -> list[TeamMember]:
    return list(
        session.scalars(
            select(TeamMember).where(TeamMember.team_id == team_id).order_by(TeamMember.user_id)
        )
    )


def count_members(session: Session, team_id: str) -> int:
    return int(
        session.execute(
            select(func.count()).select_from(TeamMember).where(TeamMember.team_id == team_id)
        ).scalar_one()
    )


def seat_limit(session: Session, catalog: Catalog, team_id: str, now: datetime) -> int | None:
    """The team's seats now, or None when seats are not enforced for it (see module doc).
    Settles the team first (in the caller's write transaction), so refills and expiries
    that fell due count."""
    ref = team_ref(team_id)
    settled = settle_customer(session, ref, catalog, now)
    sold_to_teams = any(
        p.customer_type == "team" and SEATS_ITEM in p.items for p in catalog.products.values()
    )
    owned = any(SEATS_ITEM in product_of(o).items for o in settled.ownerships)
    if not (sold_to_teams or owned):
        return None
    return max(ledger.balance_of(session, ref, SEATS_ITEM), 0)


@dataclass(frozen=True)
class Seats:
    limit: int | None
    used: int


def seats(session: Session, catalog: Catalog, team_id: str, now: datetime) -> Seats:
    return Seats(seat_limit(session, catalog, team_id, now), count_members(session, team_id))


def put_member(
    session: Session, catalog: Catalog, team_id: str, user_id: str, role: Role, now: datetime
) -> tuple[TeamMember, bool]:
    """Adds ``user_id`` to the team or changes its role; ``(member, created)``.

    A new member needs a free seat: 409 ``seat_limit_reached`` otherwise, and nothing changes.
    A role change takes no seat.
    """
    # The lock serializes every membership change of this team (PostgreSQL; on SQLite the
    # write transaction already holds the database's write lock).
    lock_customer(session, team_ref(team_id), now)
    member = session.get(TeamMember, (team_id, user_id))
    if member is not None:
        member.role = role
        session.flush()
        return member, False
    current = seats(session, catalog, team_id, now)
    if current.limit is not None and current.used >= current.limit:
        raise Conflict(
            "seat_limit_reached",
            f"team {team_id!r} uses all of its {current.limit} seat(s); free a seat or buy more",
            param="user_id",
            seats=current.limit,
            members=current.used,
        )
    member = TeamMember(team_id=team_id, user_id=user_id, role=role, created_at=now)
    session.add(member)
    session.flush()
    return member, True


def remove_member(session: Session, team_id: str, user_id: str, now: datetime) -> None:
    """Removes the member, which frees its seat; 404 ``member_not_found`` if it is none."""
    lock_customer(session, team_ref(team_id), now)
    member = session.get(TeamMember, (team_id, user_id))
    if member is None:
        raise NotFound(
            "member_not_found", f"{user_id!r} is not a member of team {team_id!r}", param="user_id"
        )
    session.delete(member)
    session.flush()


def assert_seats_fit(session: Session, team_id: str, new_seat_count: int) -> None:
    """Refuses a change (a downgrade, fewer seats) that would leave the team with fewer seats
    than members: 409 ``seats_below_members``. Call it in the transaction that makes the
    change, after locking the team customer, so no member is added in between."""
    members = count_members(session, team_id)
    if new_seat_count < members:
        raise Conflict(
            "seats_below_members",
            f"team {team_id!r} has {members} member(s) and would have {new_seat_count} seat(s);"
            " remove members first",
            seats=new_seat_count,
            members=members,
        )


@dataclass(frozen=True)
class MemberView:
    """A membership as the API shows it."""

    team_id: str
    user_id: str
    role: Role
    created_at: datetime


def member_view(row: TeamMember) -> MemberView:
    return MemberView(
        team_id=row.team_id,
        user_id=row.user_id,
        role="admin" if row.role == "admin" else "member",
        created_at=row.created_at,
    )
