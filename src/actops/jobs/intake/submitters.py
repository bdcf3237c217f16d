"""Who submitted a row: the NocoDB account that created it → the 员工 row with that 邮箱.

NocoDB 0.301.3 returns a CreatedBy field as ``{"id", "email", "display_name", "meta"}``
(verified on a real server, also for rows created before the field was added). A row
created through a shared (public) form or by an API token of nobody in particular has
no such account, or one that is no employee: those are said, never guessed.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any


def account_email(value: Any) -> str | None:
    """The e-mail of a CreatedBy value (a dict, a list of them, JSON text or an address)."""
    if value is None:
        return None
    if isinstance(value, str):
        text = value.strip()
        if text.startswith(("{", "[")):
            try:
                return account_email(json.loads(text))
            except ValueError:
                return None
        return text.lower() if "@" in text else None
    if isinstance(value, list):
        return next((e for v in value if (e := account_email(v))), None)
    if isinstance(value, Mapping):
        return account_email(value.get("email"))
    return None


@dataclass(frozen=True)
class Person:
    row_id: int
    code: str
    name: str
    email: str
    active: bool
    department: str | None = None
    manager: str | None = None


@dataclass
class Directory:
    """Employees by e-mail (case and spaces ignored) and by 工号."""

    by_email: dict[str, list[Person]] = field(default_factory=dict)
    by_code: dict[str, list[Person]] = field(default_factory=dict)

    @classmethod
    def from_rows(cls, rows: Iterable[Mapping[str, Any]]) -> Directory:
        """Raw 员工 rows keyed by field name (code, name, email, active, department, manager)."""
        d = cls()
        for r in rows:
            code = str(r.get("code") or "").strip()
            if not code:
                continue
            email = str(r.get("email") or "").strip().lower()
            p = Person(row_id=r["Id"], code=code, name=str(r.get("name") or "").strip(), email=email,
                       active=_truthy(r.get("active")), department=_text(r.get("department")),
                       manager=_text(r.get("manager")))
            d.by_code.setdefault(code, []).append(p)
            if email:
                d.by_email.setdefault(email, []).append(p)
        return d

    def person(self, code: str | None) -> Person | None:
        """The one 员工 row with this 工号 (None when there is none or more than one)."""
        found = self.by_code.get(str(code or "").strip(), [])
        return found[0] if len(found) == 1 else None


@dataclass(frozen=True)
class Submitter:
    email: str | None
    person: Person | None
    problem: str | None  # why the account does not name one active employee


def identify(account: Any, directory: Directory) -> Submitter:
    email = account_email(account)
    if email is None:
        return Submitter(None, None, "无法确定提交人：本行没有登录账号记录（通过公开表单或接口创建）")
    found = directory.by_email.get(email, [])
    active = [p for p in found if p.active]
    if len(active) == 1:
        return Submitter(email, active[0], None)
    if len(active) > 1:
        codes = "、".join(p.code for p in active)
        return Submitter(email, None, f"提交账号 {email} 同时是多名在职员工的邮箱（{codes}），无法确定提交人；"
                                      "请人事在「员工」表中改正邮箱")
    if found:
        return Submitter(email, None, f"提交账号 {email} 属于已离职员工 {found[0].code}，不能作为提交人")
    return Submitter(email, None, f"提交账号 {email} 不是任何在职员工的邮箱（「员工」表的「邮箱」）；"
                                  "请人事在员工表中补充该邮箱")


def _truthy(v: Any) -> bool:
    if isinstance(v, str):
        return v.strip().lower() in {"true", "1", "yes", "是"}
    return bool(v)


def _text(v: Any) -> str | None:
    s = str(v).strip() if v is not None else ""
    return s or None
