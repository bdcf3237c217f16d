"""The organisation as the flows see it (ORG-1, ORG-2): people, departments, the chain above.

Built from the 员工 and 部门 rows on every run, never hard-coded. A 工号 that two rows share
is *ambiguous*: nobody is messaged under it (REL-2: never last-one-wins), and the items
assigned to it say why.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from actops.records import Issue

WECOM_ID = re.compile(r"[A-Za-z0-9_.@-]{1,64}")
WECOM_EVERYONE = frozenset({"all", "@all"})  # the group bot mentions every member


def valid_wecom_id(value: object) -> bool:
    """A WeCom id that may be used and mentioned: plausible characters, not "all"/"@all"."""
    text = str(value or "").strip()
    return bool(WECOM_ID.fullmatch(text)) and text.lower() not in WECOM_EVERYONE

CHANNEL_EMAIL = "邮件"
CHANNEL_WECOM = "企业微信"
CHANNEL_BOTH = "邮件和企业微信"
GM_ROLE = "总经理"


@dataclass(frozen=True)
class Person:
    code: str
    name: str
    manager: str | None = None
    department: str | None = None
    email: str | None = None
    wecom_id: str | None = None
    channel: str = CHANNEL_EMAIL
    locale: str = "zh-CN"
    active: bool = True
    roles: tuple[str, ...] = ()

    def addresses(self) -> list[tuple[str, str]]:
        """``[(outbox channel, address)]`` per the chosen channel, falling back to any address.

        A person who chose 企业微信 but has only an e-mail still gets the message by e-mail:
        a reminder that arrives on the "wrong" channel beats one that never arrives.
        """
        have = {CHANNEL_EMAIL: (self.email or "").strip(), CHANNEL_WECOM: (self.wecom_id or "").strip()}
        wanted = {
            CHANNEL_EMAIL: [CHANNEL_EMAIL],
            CHANNEL_WECOM: [CHANNEL_WECOM],
            CHANNEL_BOTH: [CHANNEL_EMAIL, CHANNEL_WECOM],
        }.get(self.channel, [CHANNEL_EMAIL])
        chosen = [(c, have[c]) for c in wanted if have[c]]
        if chosen:
            return chosen
        return [(c, a) for c, a in have.items() if a][:1]


@dataclass(frozen=True)
class Org:
    people: Mapping[str, Person]
    dept_heads: Mapping[str, str]
    general_manager: str | None = None
    ambiguous: frozenset[str] = field(default_factory=frozenset)  # 工号 on two or more rows

    def active(self, code: str | None) -> Person | None:
        p = self.people.get(code) if code else None
        return p if p is not None and p.active else None

    def holders(self, role: str) -> list[Person]:
        """Active people with ``role``, by 工号 (the order callers choose the first from)."""
        return sorted((p for p in self.people.values() if p.active and role in p.roles), key=lambda p: p.code)

    def chain(self, code: str) -> list[str]:
        """Escalation chain of ``code`` (ORG-2): manager → department head → general manager.

        An inactive manager is replaced by *their* manager (walking up until someone active);
        the walk remembers whom it visited, so a manager loop in the data ends it.  The
        person themself and inactive people are skipped, duplicates dropped.
        """
        person = self.people.get(code)
        if person is None:
            return []
        out: list[str] = []
        seen = {code}

        def add(c: str | None) -> None:
            if c and c not in seen and self.active(c) is not None:
                out.append(c)
                seen.add(c)

        visited = {code}
        m = person.manager
        while m and m not in visited:
            visited.add(m)
            if self.active(m) is not None:
                add(m)
                break
            nxt = self.people.get(m)
            m = nxt.manager if nxt else None
        if person.department:
            add(self.dept_heads.get(person.department))
        add(self.general_manager)
        return out


def build_org(employees: Iterable, departments: Iterable, general_manager: str | None = None,
              ambiguous: Iterable[str] = ()) -> Org:
    """The org from typed 员工/部门 records. ``general_manager`` is the setting (a 工号, already
    checked to name an active person); blank falls back to the active 总经理 with the lowest 工号."""
    skip = frozenset(ambiguous)
    people = {
        e.code: Person(code=e.code, name=e.name, manager=e.manager, department=e.department, email=e.email,
                       wecom_id=e.wecom_id if valid_wecom_id(e.wecom_id) else None, channel=e.channel or CHANNEL_EMAIL, locale=e.locale or "zh-CN",
                       active=bool(e.active), roles=tuple(e.roles or ()))
        for e in employees if e.code not in skip
    }
    heads = {d.code: d.head for d in departments if d.head}
    org = Org(people=people, dept_heads=heads, ambiguous=skip)
    gm = general_manager if org.active(general_manager) else None
    if gm is None:
        holders = org.holders(GM_ROLE)
        gm = holders[0].code if holders else None
    return Org(people=people, dept_heads=heads, general_manager=gm, ambiguous=skip)


def manager_loops(
    managers: Mapping[str, str | None],
    row_ids: Mapping[str, int],
    table: str = "员工",
    field: str = "直属上级",
) -> list[Issue]:
    """Report each employee whose chain of managers comes back to someone already on it."""
    issues = []
    for code in sorted(managers):
        seen = [code]
        cur = managers.get(code)
        while cur:
            if cur in seen:
                loop = " → ".join([*seen[seen.index(cur) :], cur])
                issues.append(Issue(table, row_ids.get(code), field, managers.get(code),
                                    f"上级链条形成循环（{loop}），请修正「{field}」"))
                break
            seen.append(cur)
            cur = managers.get(cur)
    return issues
