"""Who gets which NocoDB role in which base (STF-4, EVA-7): pure rules, no I/O.

- Every active employee (员工.在职 checked) with a valid e-mail has an account, keyed by
  the e-mail, and edits the operations base (NocoDB role ``editor``).
- A restricted base (``restricted: true`` in ``schema/<base>/_base.yaml``: 人事考评) is open
  only to 人事 and managers (主管, 部门负责人, 总监, 总经理, CEO), also as ``editor``: HR
  opens cycles, managers score their people. Everyone else has no access there.
- Nobody gets more than ``editor`` from here: tables, fields and views are code
  (``actops schema apply``), so ``creator`` stays with the administrators who own the bases.
- Anyone else in a base — a leaver, a removed employee, an e-mail no active employee has —
  is removed from it. Never touched: the base owner, the super admin, the API token's user.
- An e-mail on two active 员工 rows is a contradiction (REL-2): that account is left as it
  is and both rows say why. With no active employee at all nothing is removed: an empty
  or unreadable 员工 table must not lock everyone out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from actops.jobs.access.members import Member
from actops.records import EMAIL_RE, Issue

EDITOR = "editor"
HR_ACCESS = frozenset({"人事", "主管", "部门负责人", "总监", "总经理", "CEO"})
ROLE_LABELS = {"zh-CN": {EDITOR: "可编辑"}, "en": {EDITOR: "can edit"}}
TABLE_ZH, EMAIL_ZH = "员工", "邮箱"


def base_role(roles: Iterable[str], restricted: bool) -> str | None:
    """The NocoDB role of an active employee with these 员工.角色 in one base; None: no access."""
    if not restricted:
        return EDITOR
    return EDITOR if HR_ACCESS & set(roles) else None


@dataclass(frozen=True)
class Person:
    """An active employee who should have an account."""

    row_id: int
    code: str
    name: str
    email: str  # lowercase
    roles: tuple[str, ...] = ()
    locale: str = "zh-CN"


@dataclass(frozen=True)
class BaseRef:
    name: str  # our name (schema/<name>/)
    zh: str  # its title as staff see it (with the prefix, if any)
    id: str
    restricted: bool


@dataclass(frozen=True)
class Change:
    """One call to NocoDB's base-user API."""

    action: str  # invite | set_role | remove
    base: BaseRef
    email: str
    role: str | None = None  # the new role (invite, set_role)
    was: str | None = None  # the old role (set_role, remove)
    user_id: str | None = None  # set_role, remove
    code: str | None = None  # the employee, when there is one

    def __str__(self) -> str:
        who = f"{self.email}（{self.code}）" if self.code else self.email
        if self.action == "invite":
            return f"邀请 {who} 加入「{self.base.zh}」，角色 {self.role}"
        if self.action == "set_role":
            return f"「{self.base.zh}」中 {who} 的角色 {self.was} → {self.role}"
        why = "无权访问此库" if self.code else "不是在职员工"
        return f"将 {who} 移出「{self.base.zh}」（原角色 {self.was}，{why}）"


def normal_email(value: object) -> str | None:
    text = str(value or "").strip().lower()
    return text if text and EMAIL_RE.match(text) else None


def people(employees: Iterable[object]) -> tuple[dict[str, Person], set[str], list[Issue]]:
    """Active employees by e-mail, the e-mails two active rows share, and the issues to put on rows.

    ``employees`` are typed 员工 records (read with salvage: a malformed e-mail is None there).
    """
    by_email: dict[str, list[object]] = {}
    issues: list[Issue] = []
    for e in employees:
        if not getattr(e, "active", False):
            continue
        email = normal_email(getattr(e, "email", None))
        if email is None:
            issues.append(Issue(TABLE_ZH, e.Id, EMAIL_ZH, getattr(e, "email", None),
                                "在职员工没有有效的邮箱，无法开通 NocoDB 账号；请填写「邮箱」"))
            continue
        by_email.setdefault(email, []).append(e)
    out: dict[str, Person] = {}
    shared: set[str] = set()
    for email, rows in by_email.items():
        if len(rows) > 1:
            shared.add(email)
            for e in rows:
                others = "、".join(str(o.code) for o in rows if o is not e)
                issues.append(Issue(TABLE_ZH, e.Id, EMAIL_ZH, email,
                                    f"此邮箱同时是在职员工 {others} 的邮箱；NocoDB 账号按邮箱开通，无法区分两人，"
                                    "改正前此账号的权限保持不变；请改正其中一行"))
            continue
        e = rows[0]
        out[email] = Person(row_id=e.Id, code=str(e.code), name=str(e.name or e.code), email=email,
                            roles=tuple(e.roles or ()), locale=getattr(e, "locale", None) or "zh-CN")
    return out, shared, issues


def changes(staff: Mapping[str, Person], shared: set[str], bases: Sequence[BaseRef],
            live: Mapping[str, Sequence[Member]]) -> tuple[list[Change], list[str]]:
    """The calls that make each base's members match the staff; and warnings."""
    out: list[Change] = []
    warnings: list[str] = []
    for base in bases:
        present = {m.email: m for m in live.get(base.name, ()) if m.role is not None}
        for email, p in sorted(staff.items(), key=lambda kv: kv[1].code):
            want = base_role(p.roles, base.restricted)
            have = present.get(email)
            if have is not None and have.protected:
                continue
            if want is not None and have is None:
                out.append(Change("invite", base, email, role=want, code=p.code))
            elif want is not None and have is not None and have.role != want:
                out.append(Change("set_role", base, email, role=want, was=have.role, user_id=have.user_id, code=p.code))
            elif want is None and have is not None and have.has_access:
                out.append(Change("remove", base, email, was=have.role, user_id=have.user_id, code=p.code))
        strangers = [m for e, m in sorted(present.items())
                     if e not in staff and e not in shared and not m.protected and m.has_access]
        if strangers and not staff:
            warnings.append(f"「员工」表中没有在职且有邮箱的员工：为免误锁所有人，本次未把任何人移出「{base.zh}」"
                            f"（{len(strangers)} 个账号）；请检查「员工」表")
            continue
        out += [Change("remove", base, m.email, was=m.role, user_id=m.user_id) for m in strangers]
    return out, warnings


def access_of(p: Person, bases: Sequence[BaseRef]) -> list[tuple[BaseRef, str]]:
    """The bases this person may open, with the role."""
    return [(b, r) for b in bases if (r := base_role(p.roles, b.restricted)) is not None]
