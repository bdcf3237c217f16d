"""Accounts and roles as code (STF-4, EVA-7): the role rules, the calls they plan, the
welcome message, and the whole job on the in-memory NocoDB with a fake member list."""

from __future__ import annotations

import re
from datetime import datetime
from types import SimpleNamespace

import pytest

from actops.jobs import access
from actops.jobs.access.members import Member
from actops.jobs.access.policy import EDITOR, HR_ACCESS, BaseRef, Person, base_role, changes, people
from actops.jobs.access.welcome import welcome
from actops.kernel.calendar import TZ
from actops.nocodb.fake import FakeApi
from actops.schema import load_schema
from actops.schema.sync import apply
from actops.store import Store

OPS = BaseRef("actops", "活动运营", "p_ops", restricted=False)
HR = BaseRef("hr", "人事考评", "p_hr", restricted=True)
ALL_ROLES = ("员工", "主管", "部门负责人", "总监", "财务", "人事", "审计", "计划组", "总经理", "CEO")
NOON = datetime(2026, 11, 4, 12, tzinfo=TZ)


def emp(row_id, code, roles=("员工",), email=None, active=True, name=None, locale="zh-CN"):
    return SimpleNamespace(Id=row_id, code=code, name=name or f"员工{code}", roles=tuple(roles),
                           email=email if email is not None else f"{code.lower()}@corp.test",
                           active=active, locale=locale)


def member(email, role, uid=None, protected=False, pending=False):
    return Member(uid or f"u-{email}", email, role, pending=pending, protected=protected)


@pytest.mark.req("STF-4", "EVA-7")
@pytest.mark.parametrize("role", ALL_ROLES)
def test_everyone_edits_operations_and_only_hr_and_managers_open_the_hr_base(role):
    assert base_role([role], restricted=False) == EDITOR
    expected = EDITOR if role in ("人事", "主管", "部门负责人", "总监", "总经理", "CEO") else None
    assert base_role([role], restricted=True) == expected


@pytest.mark.req("EVA-7")
def test_hr_access_is_exactly_hr_and_the_manager_roles():
    assert {"人事", "主管", "部门负责人", "总监", "总经理", "CEO"} == HR_ACCESS
    assert base_role([], restricted=False) == EDITOR  # no role ticked: still staff
    assert base_role([], restricted=True) is None
    assert base_role(["员工", "财务", "审计", "计划组"], restricted=True) is None
    assert base_role(["员工", "主管"], restricted=True) == EDITOR


@pytest.mark.req("STF-4", "REL-2")
def test_active_people_by_email_with_issues_for_missing_and_shared_addresses():
    rows = [emp(1, "E1", email="Boss@Corp.test"), emp(2, "E2", email=""), emp(3, "E3", email="same@corp.test"),
            emp(4, "E4", email="same@corp.test"), emp(5, "E5", active=False),
            emp(6, "E6", email="old@corp.test", active=False), emp(7, "E7", email="old@corp.test")]
    staff, shared, issues = people(rows)
    assert set(staff) == {"boss@corp.test", "old@corp.test"}  # lowercased; a rehire's old row is no clash
    assert staff["old@corp.test"].code == "E7"
    assert shared == {"same@corp.test"}
    by_row = {i.row_id: i.reason for i in issues}
    assert set(by_row) == {2, 3, 4}
    assert "没有有效的邮箱" in by_row[2] and "E4" in by_row[3] and "E3" in by_row[4]
    assert all(i.table == "员工" and i.field == "邮箱" for i in issues)


def _people(*rows):
    return people(rows)[:2]


@pytest.mark.req("STF-4", "EVA-7")
def test_the_calls_invite_fix_roles_and_remove_leavers_and_strangers():
    staff, shared = _people(emp(1, "E1", ["员工"]), emp(2, "E2", ["人事"]), emp(3, "E3", ["员工"]),
                            emp(4, "E4", ["主管"]))
    live = {
        "actops": [member("e1@corp.test", None), member("e2@corp.test", "viewer"), member("e3@corp.test", EDITOR),
                   member("gone@corp.test", EDITOR), member("admin@corp.test", "owner", protected=True),
                   member("e4@corp.test", "no-access")],
        "hr": [member("e3@corp.test", EDITOR), member("e2@corp.test", EDITOR),
               member("gone@corp.test", "no-access")],
    }
    calls, warnings = changes(staff, shared, [OPS, HR], live)
    got = sorted((c.base.name, c.action, c.email, c.role) for c in calls)
    assert got == [
        ("actops", "invite", "e1@corp.test", EDITOR),
        ("actops", "remove", "gone@corp.test", None),
        ("actops", "set_role", "e2@corp.test", EDITOR),
        ("actops", "set_role", "e4@corp.test", EDITOR),  # no-access set by hand: staff edit operations
        ("hr", "invite", "e4@corp.test", EDITOR),
        ("hr", "remove", "e3@corp.test", None),  # plain staff: no HR base
    ]
    assert warnings == []
    assert all(str(c) for c in calls)


@pytest.mark.req("STF-4")
def test_owners_shared_addresses_and_an_empty_staff_list_are_left_alone():
    staff, shared = _people(emp(1, "E1", email="x@corp.test"), emp(2, "E2", email="x@corp.test"))
    live = {"actops": [member("x@corp.test", "viewer"), member("root@corp.test", "owner", protected=True),
                       member("ex@corp.test", EDITOR)]}
    calls, warnings = changes(staff, shared, [OPS], live)
    assert calls == [] and len(warnings) == 1 and "未把任何人移出" in warnings[0]


def _apply(live, calls):
    """What NocoDB would list after the calls (to show a second run has nothing to do)."""
    out = {k: {m.email: m for m in v} for k, v in live.items()}
    for c in calls:
        base = out.setdefault(c.base.name, {})
        if c.action == "remove":
            base[c.email] = Member(base[c.email].user_id, c.email, None)
        else:
            old = base.get(c.email)
            base[c.email] = Member(old.user_id if old else f"u-{c.email}", c.email, c.role)
    return {k: list(v.values()) for k, v in out.items()}


@pytest.mark.req("STF-4")
def test_a_second_run_plans_nothing():
    staff, shared = _people(emp(1, "E1", ["总监"]), emp(2, "E2"), emp(3, "E3", ["人事"]))
    live = {"actops": [member("left@corp.test", EDITOR)], "hr": [member("e2@corp.test", "viewer")]}
    first, _ = changes(staff, shared, [OPS, HR], live)
    assert first
    second, _ = changes(staff, shared, [OPS, HR], _apply(live, first))
    assert second == []


@pytest.mark.req("STF-4")
def test_the_welcome_says_where_how_to_sign_in_and_how_to_switch_to_chinese():
    p = Person(7, "E7", "<b>王五</b>", "e7@corp.test", ("主管",))
    m = welcome(p, [(OPS, EDITOR), (HR, EDITOR)], "https://nocodb.corp.test/", demo=False, not_before=NOON)
    assert m.kind == "账号开通" and m.channel == "邮件" and m.address == "e7@corp.test"
    assert m.items == ("employees:7:welcome:e7@corp.test",)
    for text in (m.html, m.body):
        assert "https://nocodb.corp.test/dashboard/#/signin" in text
        assert "左下角" in text and "Language" in text and "简体中文" in text
        assert "「活动运营」" in text and "「人事考评」" in text and "可编辑" in text
        assert "邀请邮件" in text and "accounts.csv" not in text
    assert "&lt;b&gt;王五" in m.html and "<b>王五" not in m.html  # autoescaped
    demo = welcome(p, [(OPS, EDITOR)], "http://127.0.0.1:8080", demo=True, not_before=NOON)
    assert "accounts.csv" in demo.body and "人事考评" not in demo.body
    en = welcome(Person(8, "E8", "Ann", "ann@corp.test", locale="en"), [(OPS, EDITOR)], "http://x.test", False, NOON)
    assert "Hello Ann" in en.body and "can edit" in en.html
    # no invitation token or password in what every editor of the outbox can read
    assert not re.search(r"[0-9a-f]{8}-[0-9a-f]{4}-", m.html + m.body)


class Members:
    """NocoDB's base-user API, as verified on 0.301.3, over the in-memory NocoDB."""

    def __init__(self, fake: FakeApi) -> None:
        self.users: dict[str, dict] = {"u0": {"id": "u0", "email": "admin@corp.test", "main_roles": "org-level-creator,super"}}
        self.roles: dict[tuple[str, str], str] = {}  # (base id, user id) → role
        self.calls: list[tuple[str, str]] = []
        routes = [
            ("GET", r"/api/v1/auth/user/me", lambda m, p, b: {"id": "u0", "email": "admin@corp.test"}),
            ("GET", r"/api/v2/meta/bases/(?P<base>[^/]+)/users", self.list),
            ("POST", r"/api/v2/meta/bases/(?P<base>[^/]+)/users", self.invite),
            ("PATCH", r"/api/v2/meta/bases/(?P<base>[^/]+)/users/(?P<user>[^/]+)", self.patch),
            ("DELETE", r"/api/v2/meta/bases/(?P<base>[^/]+)/users/(?P<user>[^/]+)", self.delete),
        ]
        fake.server._routes += [(m, re.compile(p), f) for m, p, f in routes]

    def list(self, m, params, body):
        return {"users": {"list": [{**u, "roles": "owner" if u["id"] == "u0" else self.roles.get((m["base"], u["id"])),
                                    "invite_token": None} for u in self.users.values()]}}

    def invite(self, m, params, body):
        self.calls.append(("invite", body["email"]))
        user = next((u for u in self.users.values() if u["email"] == body["email"]), None)
        if user is None:
            user = self.users.setdefault(f"u{len(self.users)}", {"id": f"u{len(self.users)}", "email": body["email"],
                                                                   "main_roles": "org-level-viewer"})
        self.roles[(m["base"], user["id"])] = body["roles"]
        return {"msg": "The user has been invited successfully"}

    def patch(self, m, params, body):
        self.calls.append(("patch", m["user"]))
        self.roles[(m["base"], m["user"])] = body["roles"]
        return {"msg": "ok"}

    def delete(self, m, params, body):
        self.calls.append(("delete", m["user"]))
        self.roles.pop((m["base"], m["user"]), None)
        return {"msg": "ok"}

    def of(self, base_id: str) -> dict[str, str]:
        return {self.users[u]["email"]: r for (b, u), r in self.roles.items() if b == base_id}


@pytest.mark.req("STF-4", "EVA-7", "SEC-4")
def test_the_job_on_the_runner_invites_welcomes_once_and_removes_a_leaver():
    api = FakeApi()
    apply(api, load_schema(), prefix="t-", log=lambda s: None)
    users = Members(api)
    store = Store(api, "t-")
    store.table("employees").create([
        {"code": "E1", "name": "总经理", "department": "D01", "roles": "总经理", "email": "e1@corp.test", "active": True},
        {"code": "E2", "name": "员工乙", "department": "D01", "roles": "员工", "email": "e2@corp.test", "active": True},
        {"code": "E3", "name": "员工丙", "department": "D01", "roles": "员工", "active": True},
    ])
    ops, hr = (api.base_by_title(t).id for t in ("t-活动运营", "t-人事考评"))
    first = access.run(store, NOON, channels={})
    assert users.of(ops) == {"e1@corp.test": EDITOR, "e2@corp.test": EDITOR}
    assert users.of(hr) == {"e1@corp.test": EDITOR}
    assert first.enqueued == 2 and first.plan.stats["calls_done"] == 3
    note = store.table("employees").rows()[2]["data_issue"]
    assert note.startswith("【账号权限】") and "邮箱" in note
    log = store.table("run_log").rows()[-1]
    assert log["flow"] == "access" and "NocoDB 成员" in log["writes"] and "邀请 e1@corp.test" in str(log["stats"])

    n = len(users.calls)
    second = access.run(store, NOON, channels={})
    assert len(users.calls) == n and second.enqueued == 0 and second.note != "idle"  # looked, found nothing

    store.table("employees").update([{"Id": 2, "active": False}])
    access.run(store, NOON, channels={})
    assert users.of(ops) == {"e1@corp.test": EDITOR}
    outbox = store.table("outbox").rows()
    assert {r["recipient"]: r["status"] for r in outbox} == {"E1": "待发送", "E2": "已撤回"}


@pytest.mark.req("STF-4")
def test_dry_run_lists_the_calls_and_changes_nothing():
    api = FakeApi()
    apply(api, load_schema(), prefix="t-", only={"employees", "settings", "outbox", "run_log"}, log=lambda s: None)
    users = Members(api)
    store = Store(api, "t-")
    store.table("employees").create([{"code": "E1", "name": "甲", "department": "D01", "email": "a@corp.test",
                                      "active": True}])
    result = access.run(store, NOON, dry_run=True)
    assert [c.action for c in result.plan.extra] == ["invite"] and users.calls == []
    assert store.table("outbox").rows() == [] and store.table("run_log").rows() == []
