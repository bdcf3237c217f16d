"""Who may open a NocoDB base: NocoDB 0.301's base-user API, spoken with the API token.

Verified on a real 0.301.3 (community edition):

- ``GET /api/v2/meta/bases/{base}/users`` lists *every* user of the instance in one answer
  (``limit``/``offset`` are ignored; ``pageInfo`` says pageSize 25 but the list is whole),
  each with ``roles`` = the role in *this* base or ``None`` when not a member,
  ``main_roles`` (``org-level-…``, ``super`` for the super admin) and ``invite_token`` (set
  until the person has chosen a password).
- ``POST …/users {email, roles}`` invites (creates the user if needed); a member answers 422
  ``ERR_BASE_COLLABORATION`` "already exists", a malformed e-mail 422 too.
- ``PATCH …/users/{userId} {roles}`` changes the role; the last owner cannot be demoted.
- ``DELETE …/users/{userId}`` removes the user from the base (the account stays; a session
  opened before gets 403 on its next call). Re-inviting after a delete works.
- ``GET /api/v1/auth/user/me`` with the token names the token's own user.

NocoDB lowercases e-mails; so does everything here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

NO_ACCESS = "no-access"
OWNER = "owner"


@dataclass(frozen=True)
class Member:
    """One NocoDB user as one base lists them."""

    user_id: str
    email: str
    role: str | None  # the role in this base; None: not a member
    pending: bool = False  # invited, no password chosen yet
    protected: bool = False  # the base's owner, the super admin or the token's user: never touched

    @property
    def has_access(self) -> bool:
        return self.role not in (None, NO_ACCESS)


def token_user(api: Any) -> str | None:
    me = api.request("GET", "/api/v1/auth/user/me") or {}
    return me.get("id")


def members(api: Any, base_id: str, base_title: str, me: str | None = None) -> list[Member]:
    """Every user with their role in this base (one call)."""
    body = api.request("GET", f"/api/v2/meta/bases/{base_id}/users", table=base_title) or {}
    out = []
    for u in (body.get("users") or {}).get("list", []):
        main = str(u.get("main_roles") or "")
        role = u.get("roles") or None
        out.append(Member(
            user_id=u["id"], email=str(u.get("email") or "").strip().lower(), role=role,
            pending=bool(u.get("invite_token")),
            protected=role == OWNER or "super" in main.split(",") or (me is not None and u["id"] == me),
        ))
    return out


def invite(api: Any, base_id: str, base_title: str, email: str, role: str) -> None:
    api.request("POST", f"/api/v2/meta/bases/{base_id}/users", json={"email": email, "roles": role},
                retry=False, table=base_title)


def set_role(api: Any, base_id: str, base_title: str, user_id: str, role: str) -> None:
    api.request("PATCH", f"/api/v2/meta/bases/{base_id}/users/{user_id}", json={"roles": role}, table=base_title)


def remove(api: Any, base_id: str, base_title: str, user_id: str) -> None:
    api.request("DELETE", f"/api/v2/meta/bases/{base_id}/users/{user_id}", table=base_title)
