"""Accounts and roles as code on a real NocoDB (STF-4, EVA-7), and display columns (schema apply).

Signs people in as themselves: a staff member cannot open the HR base, HR and managers can,
and a leaver's session loses the operations base on the next run.
"""

from __future__ import annotations

import uuid
from datetime import datetime

import httpx
import pytest

from actops.jobs import access
from actops.jobs.access.members import members, token_user
from actops.kernel.calendar import TZ
from actops.messaging.channels import EmailChannel
from actops.nocodb._base import short_name
from actops.schema import load_schema
from actops.schema.sync import apply, plan
from actops_dev.accounts import read_accounts, sign_up_pending, signin

TABLES = {"settings", "departments", "employees", "outbox", "run_log", "eval_cycles", "evaluations"}
NOON = datetime(2026, 11, 4, 12, tzinfo=TZ)  # outside quiet hours
TAG = uuid.uuid4().hex[:6]  # e-mails are instance-wide: keep ours apart from other modules'


def mail(code: str) -> str:
    return f"{code.lower()}.{TAG}@corp.test"


@pytest.fixture(scope="module")
def csv_path(tmp_path_factory):
    return tmp_path_factory.mktemp("accounts") / "accounts.csv"


@pytest.fixture(scope="module")
def company(make_store):
    store = make_store(TABLES, suffix="acc-")
    store.table("departments").create([{"code": "D01", "name": "总经理办公室"}, {"code": "D08", "name": "人力资源部"}])
    store.table("employees").create([
        {"code": "E1", "name": "王总", "department": "D01", "roles": "总经理,CEO", "email": mail("E1"), "active": True},
        {"code": "E2", "name": "李人事", "department": "D08", "roles": "人事", "email": mail("E2").upper(), "active": True},
        {"code": "E3", "name": "张员工", "department": "D01", "roles": "员工", "email": mail("E3"), "active": True},
        {"code": "E4", "name": "赵主管", "department": "D08", "roles": "主管,人事", "email": mail("E4"), "active": True},
        {"code": "E5", "name": "没邮箱", "department": "D01", "roles": "员工", "active": True},
        {"code": "E6", "name": "已离职", "department": "D01", "roles": "主管", "email": mail("E6"), "active": False},
    ])
    bases = {s.name: store.api.base_by_title(f"{store.prefix}{s.zh}").id for s in store.specs}
    return store, bases


def roles_in(store, base_id: str) -> dict[str, str]:
    me = token_user(store.api)
    return {m.email: m.role for m in members(store.api, base_id, "t", me) if m.role and not m.protected}


def session(url: str, email: str, password: str) -> httpx.Client:
    return httpx.Client(base_url=url, headers={"xc-auth": signin(url, email, password)}, timeout=30)


@pytest.mark.req("STF-4", "EVA-7", "SEC-4")
def test_apply_invites_active_staff_with_roles_per_base_and_a_rerun_changes_nothing(company, smtp, csv_path):
    store, bases = company
    smtp.clear()
    channels = {"邮件": EmailChannel(host="127.0.0.1", port=smtp.port, sender="actops@corp.test")}
    first = access.run(store, NOON, channels=channels)
    active = {mail(c) for c in ("E1", "E2", "E3", "E4")}
    assert roles_in(store, bases["actops"]) == dict.fromkeys(active, "editor")
    assert roles_in(store, bases["hr"]) == dict.fromkeys({mail("E1"), mail("E2"), mail("E4")}, "editor")
    assert first.plan.stats["calls_done"] == 7 and first.enqueued == 4
    assert sorted(m["to"][0] for m in smtp.messages) == sorted(active)
    m = smtp.to(mail("E2"))[0]
    assert m["subject"] == "活动运营系统（NocoDB）账号：李人事" and "简体中文" in m["html"] and "人事考评" in m["html"]
    note = next(r for r in store.table("employees").rows() if r["code"] == "E5")["data_issue"]
    assert note.startswith("【账号权限】") and "邮箱" in note
    log = next(r for r in store.table("run_log").rows() if r["run_id"] == first.run_id)
    assert log["status"] == "部分成功" and "NocoDB 成员" in log["writes"]

    before = (roles_in(store, bases["actops"]), roles_in(store, bases["hr"]), store.api.calls.copy())
    second = access.run(store, NOON, channels=channels)
    assert second.plan.extra == [] and second.enqueued == 0 and len(smtp.messages) == 4
    assert (roles_in(store, bases["actops"]), roles_in(store, bases["hr"])) == before[:2]
    writes = {m: store.api.calls[m] - before[2][m] for m in ("POST", "PATCH", "DELETE")}
    assert writes == {"POST": 1, "PATCH": 1, "DELETE": 0}  # the run log's own row, nothing else

    accounts = sign_up_pending(store.api, bases.values(), csv_path)
    assert set(accounts) == active and read_accounts(csv_path) == accounts
    assert sign_up_pending(store.api, bases.values(), csv_path) == accounts  # nothing pending: nothing new


@pytest.mark.req("EVA-7", "STF-4")
def test_staff_cannot_open_the_hr_base_hr_and_managers_can(company, nocodb, csv_path):
    store, bases = company
    url, _ = nocodb
    accounts = sign_up_pending(store.api, bases.values(), csv_path)
    hr_tables = store.api.request("GET", f"/api/v2/meta/bases/{bases['hr']}/tables")["list"]
    evals = next(t["id"] for t in hr_tables if t["table_name"].endswith("evaluations"))
    with session(url, mail("E3"), accounts[mail("E3")]) as staff:
        assert staff.get(f"/api/v2/meta/bases/{bases['hr']}/tables").status_code == 403
        assert staff.get(f"/api/v2/tables/{evals}/records").status_code == 403
        assert staff.get(f"/api/v2/meta/bases/{bases['actops']}/tables").status_code == 200
        assert {b["id"] for b in staff.get("/api/v2/meta/bases").json()["list"]} == {bases["actops"]}
    for who in ("E2", "E4", "E1"):  # HR, a supervisor, the general manager
        with session(url, mail(who), accounts[mail(who)]) as s:
            assert s.get(f"/api/v2/tables/{evals}/records").status_code == 200, who


@pytest.mark.req("STF-4")
def test_a_leaver_and_a_demoted_manager_lose_access_on_the_next_run(company, nocodb, csv_path):
    store, bases = company
    url, _ = nocodb
    access.run(store, NOON, channels={})
    accounts = sign_up_pending(store.api, bases.values(), csv_path)
    leaver = session(url, mail("E3"), accounts[mail("E3")])
    manager = session(url, mail("E4"), accounts[mail("E4")])
    assert leaver.get(f"/api/v2/meta/bases/{bases['actops']}/tables").status_code == 200
    emps = {r["code"]: r["Id"] for r in store.table("employees").rows()}
    store.table("employees").update([{"Id": emps["E3"], "active": False}, {"Id": emps["E4"], "roles": "员工"}])
    result = access.run(store, NOON, channels={})
    assert sorted((c.action, c.base.name, c.email) for c in result.plan.extra) == [
        ("remove", "actops", mail("E3")), ("remove", "hr", mail("E4"))]
    assert mail("E3") not in roles_in(store, bases["actops"])
    assert leaver.get(f"/api/v2/meta/bases/{bases['actops']}/tables").status_code == 403
    assert manager.get(f"/api/v2/meta/bases/{bases['hr']}/tables").status_code == 403
    assert manager.get(f"/api/v2/meta/bases/{bases['actops']}/tables").status_code == 200
    # a hand-made change in NocoDB is put back by the next run (roles as code)
    user = next(m for m in members(store.api, bases["actops"], "t") if m.email == mail("E1"))
    store.api.request("PATCH", f"/api/v2/meta/bases/{bases['actops']}/users/{user.user_id}", json={"roles": "viewer"})
    fixed = access.run(store, NOON, channels={})
    assert [(c.action, c.was, c.role) for c in fixed.plan.extra] == [("set_role", "viewer", "editor")]
    assert roles_in(store, bases["actops"])[mail("E1")] == "editor"
    leaver.close()
    manager.close()


def _display(api, table_id: str) -> str:
    cols = api.request("GET", f"/api/v2/meta/tables/{table_id}")["columns"]
    return next(c["title"] for c in cols if c.get("pv"))


@pytest.mark.req("STF-2")
def test_display_columns_are_set_by_schema_apply_and_kept(api, prefix):
    only = {"approval_steps", "outbox", "employees", "calendar", "evaluations"}
    pre = prefix + "disp-"
    specs = load_schema()
    apply(api, specs, prefix=pre, only=only, log=lambda s: None)
    tables = {short_name(t["table_name"]): t["id"]
              for s in specs if (b := api.base_by_title(pre + s.zh)) for t in b.tables()}
    want = {"approval_steps": "步骤名称", "outbox": "主题", "employees": "姓名", "calendar": "日期", "evaluations": "考评名称"}
    assert {n: _display(api, tables[n]) for n in want} == want
    assert plan(api, specs, prefix=pre, only=only).changes == []  # a second apply: nothing to do
    # the formula reads as people say it
    steps = api.base_by_title(pre + "活动运营").table(tables["approval_steps"])
    steps.create([{"步骤编号": "AP-1-S2", "审批申请（申请编号）": "AP-1", "顺序": 2, "审批角色": "财务"}], key="步骤编号")
    assert steps.all()[0]["步骤名称"] == "AP-1 第2步 财务"
    # changed by hand in NocoDB: the next apply lists it and puts it back
    code_col = next(c for c in steps.columns(refresh=True) if c["title"] == "步骤编号")
    api.request("POST", f"/api/v2/meta/columns/{code_col['id']}/primary")
    p = plan(api, specs, prefix=pre, only=only)
    assert [str(c) for c in p.changes] == ["+ set display column: 审批步骤: 步骤编号 → 步骤名称"]
    p.apply()
    assert _display(api, tables["approval_steps"]) == "步骤名称"
    assert plan(api, specs, prefix=pre, only=only).changes == []
