"""Form intake on a real NocoDB: rows created the way a signed-in staff member's form
creates them (their own login, key and submitted time blank) are accepted by one run; the
calendar sync adds the missing years and keeps what an administrator changed."""

from __future__ import annotations

import uuid
from datetime import datetime

import httpx
import pytest

from actops.jobs import intake
from actops.jobs.intake.calendar_sync import expected_days, sync_calendar
from actops.kernel.calendar import TZ, known_years, prc_calendar_rows
from actops.nocodb import Api
from actops.schema.spec import load_schema
from actops.schema.sync import base_title

TABLES = {"activities", "activity_types", "reports", "expenses", "feedback", "customers", "evaluations",
          "eval_cycles", "employees", "departments", "documents", "calendar", "run_log", "outbox",
          "approval_requests"}
PASSWORD = "Aa1!intake-test"


def staff_account(api: Api, store, email: str) -> Api:
    """A NocoDB user invited to the test's bases as editor, signed in: an Api speaking as them."""
    bases = [b for b in (api.base_by_title(base_title(spec, store.prefix)) for spec in store.specs) if b is not None]
    for base in bases:
        api.request("POST", f"/api/v2/meta/bases/{base.id}/users", json={"email": email, "roles": "editor"})
    users = api.request("GET", f"/api/v2/meta/bases/{base.id}/users")["users"]["list"]
    invite = next(u for u in users if u["email"] == email)["invite_token"]
    httpx.post(f"{api.url}/api/v1/auth/user/signup", json={"email": email, "password": PASSWORD, "token": invite},
               timeout=30).raise_for_status()
    jwt = httpx.post(f"{api.url}/api/v1/auth/user/signin", json={"email": email, "password": PASSWORD},
                     timeout=30).json()["token"]
    return httpx.Client(base_url=api.url, headers={"xc-auth": jwt}, timeout=30)


def submit(client: httpx.Client, table, values: dict) -> int:
    """POST one row as the form does: titles, only what the form asks, as the signed-in user."""
    r = client.post(f"/api/v2/tables/{table.table.id}/records", json=values)
    r.raise_for_status()
    return r.json()["Id"]


@pytest.fixture(scope="module")
def store(make_store):
    return make_store(TABLES, suffix="intake-")


@pytest.fixture(scope="module")
def staff(api, store):
    email = f"staff-{uuid.uuid4().hex[:8]}@corp.test"
    store.table("departments").create([{"code": "D01", "name": "市场部"}])
    store.table("employees").create([
        {"code": "E1", "name": "总经理", "department": "D01", "email": "gm@corp.test", "active": True},
        {"code": "E7", "name": "张三", "department": "D01", "manager": "E1", "email": email.upper(), "active": True}])
    store.table("customers").create([{"code": "C0001", "name": "华东客户"}])
    store.table("activities").create([{"code": "ACT-2026-0001", "name": "春季促销", "type": "市场推广", "stage": "执行",
                                       "department": "D01", "owner": "E1", "start_date": "2026-11-01",
                                       "end_date": "2026-11-30"}])
    store.table("eval_cycles").create([{"code": "2026-10-自评", "kind": "月度自评", "period": "2026-10",
                                        "due_date": "2030-12-05", "status": "已开启"}])
    with staff_account(api, store, email) as client:
        client.email = email
        yield client


def rows_by_id(store, table):
    return {r["Id"]: r for r in store.table(table).rows()}


@pytest.mark.req("ESC-3")
def test_calendar_sync_adds_the_missing_years_and_keeps_edited_rows(store):
    cal = store.table("calendar")
    cal.table.delete([r["Id"] for r in cal.rows(fields=["date"])])  # none, unless this module ran before
    y = known_years()[-1]
    rows = {r["date"]: r for r in prc_calendar_rows([y])}
    cal.create([rows[f"{y}-01-01"], rows[f"{y}-10-01"], {**rows[f"{y}-10-09"], "is_workday": False,
                                                         "kind": "法定节假日", "holiday": "公司假日"}])
    ids = cal.ids_by_key()
    cal.update([{"Id": ids[f"{y}-10-01"], "holiday": "国庆节（公司加休）"}])  # an administrator's edit

    dry = sync_calendar(store, dry_run=True)
    assert len(dry.add) == expected_days(known_years()) - 3 and dry.added == 0
    assert cal.table.count() == 3
    done = sync_calendar(store)
    assert done.added == expected_days(known_years()) - 3 and done.same == 1
    assert dict(done.kept).keys() == {f"{y}-10-01", f"{y}-10-09"}
    by_date = {r["date"]: r for r in cal.rows()}
    assert by_date[f"{y}-10-01"]["holiday"] == "国庆节（公司加休）"
    assert by_date[f"{y}-10-09"]["is_workday"] in (False, 0) and by_date[f"{y}-10-09"]["holiday"] == "公司假日"
    assert by_date[f"{known_years()[0]}-01-01"]["kind"] == "法定节假日"

    again = sync_calendar(store)
    assert again.add == [] and again.added == 0 and len(again.kept) == 2
    assert cal.table.count() == expected_days(known_years())


@pytest.mark.req("STF-1", "EVA-7", "ACT-5")
def test_form_rows_get_key_time_and_submitter_in_one_run_and_a_rerun_changes_nothing(api, store, staff):
    t = store.table
    pick = {name: t(name).ids_by_key() for name in ("activities", "activity_types", "customers", "employees")}
    # A form sends what the person picked as the link (its hidden foreign key), never a typed key.
    ids = {
        "reports": submit(staff, t("reports"), {"报告类型": "日报", "报告期开始": "2026-11-23", "报告内容": "今日完成展台验收"}),
        "expenses": submit(staff, t("expenses"), {"activity__fk": pick["activities"]["ACT-2026-0001"], "科目": "餐饮",
                                                  "金额": 1280.5, "发生日期": "2026-11-20", "事由": "客户午餐"}),
        "activities": submit(staff, t("activities"), {"活动名称": "冬季答谢会", "type__fk": pick["activity_types"]["客户交流"],
                                                      "owner__fk": pick["employees"]["E7"], "开始日期": "2026-12-20",
                                                      "结束日期": "2026-12-20", "预算金额": 50000}),
        "feedback": submit(staff, t("feedback"), {"activity__fk": pick["activities"]["ACT-2026-0001"],
                                                  "customer__fk": pick["customers"]["C0001"], "满意度": 4}),
        "evaluations": submit(staff, t("evaluations"), {"自评-业绩": "完成三场活动", "改进计划": "提前两周备货",
                                                        "自评分": 86}),
    }
    # A row made with the admin's API token: an account that is no employee.
    by_token = t("reports").table.create([{"报告类型": "周报", "报告期开始": "2026-11-16", "报告内容": "周报"}])[0]
    t("documents").create([{"code": "F1", "activity": "ACT-2026-0001", "name": "春季促销-执行-01(2026-11-01)"},
                           {"code": "F2", "activity": "ACT-2026-0001", "name": "报价单-最新.xlsx"}])

    first = intake.run(store, datetime.now(TZ))
    assert first.status in ("成功", "部分成功")
    day = datetime.now(TZ).strftime("%Y%m%d")
    prefixes = {"reports": "RPT", "expenses": "EXP", "activities": "ACT", "feedback": "FB", "evaluations": "SE"}
    got = {name: rows_by_id(store, name)[rid] for name, rid in ids.items()}
    for name, row in got.items():
        assert row["code"] == f"{prefixes[name]}-{day}-0001", name
        assert not row["data_issue"], (name, row["data_issue"])
        assert row["account"]["email"] == staff.email  # NocoDB's CreatedBy: the signed-in staff member
    for name in ("reports", "feedback", "evaluations"):
        assert got[name]["submitted_at"] == got[name]["CreatedAt"], name
    assert got["reports"]["employee"] == got["expenses"]["employee"] == got["evaluations"]["employee"] == "E7"
    for name in ("reports", "expenses"):  # the filled-in person is a link too, so the grid shows the name
        assert t(name).table.get(ids[name])["employee__fk"] == pick["employees"]["E7"], name
    assert got["activities"]["stage"] == "立项申请" and got["activities"]["department"] == "D01"
    assert got["feedback"]["respondent"] == "张三"
    assert (got["evaluations"]["cycle"], got["evaluations"]["supervisor"]) == ("2026-10-自评", "E1")

    other = rows_by_id(store, "reports")[by_token]
    assert other["code"] == f"RPT-{day}-0002" and other["employee"] is None
    assert "【表单受理】" in other["data_issue"] and "不是任何在职员工的邮箱" in other["data_issue"]
    docs = {r["code"]: r for r in t("documents").rows()}
    assert docs["F1"]["name_ok"] and not docs["F1"]["data_issue"]
    assert not docs["F2"]["name_ok"] and "项目名称-日期-版本号" in docs["F2"]["data_issue"]
    assert docs["F2"]["name"] == "报价单-最新.xlsx"  # flagged, never renamed

    before = {name: rows_by_id(store, name) for name in (*ids, "documents")}
    second = intake.run(store, datetime.now(TZ))
    assert second.plan.row_updates == {} and second.plan.stats["keys_given"] == 0
    assert {name: rows_by_id(store, name) for name in before} == before

    # The person fills in 提交人 by hand: the note goes on the next run, the key stays.
    t("reports").update([{"Id": by_token, "employee": "E1"}])
    intake.run(store, datetime.now(TZ))
    fixed = rows_by_id(store, "reports")[by_token]
    assert fixed["code"] == f"RPT-{day}-0002" and not fixed["data_issue"]


def _account_column(table):
    return next((c for c in table.columns(refresh=True) if c["uidt"] == "CreatedBy" and not c.get("system")), None)


def test_schema_apply_adds_the_created_by_field_to_an_existing_table_and_keeps_it_out_of_forms(api, store):
    from actops.schema.sync import apply, plan

    assert plan(api, load_schema(), prefix=store.prefix, only=TABLES).changes == []  # found by type
    reports = store.table("reports").table
    col = _account_column(reports)
    assert col["title"] == "提交账号" and col["description"].startswith("由 NocoDB 记录")
    # A base made before the field existed: the next apply adds it, rows keep their values.
    api.request("DELETE", f"/api/v2/meta/columns/{col['id']}")
    assert _account_column(reports) is None
    added = apply(api, load_schema(), prefix=store.prefix, only={"reports"}, log=lambda s: None)
    assert [(c.what, c.where) for c in added.changes] == [("add field", "工作报告.提交账号")]
    col = _account_column(reports)
    form = next(v for v in reports.meta(refresh=True)["views"] if v["title"] == "工作报告提交")
    shown = {c["fk_column_id"]: c["show"] for c in api.request("GET", f"/api/v2/meta/forms/{form['id']}")["columns"]}
    assert not shown[col["id"]]
    rows = store.table("reports").rows()
    assert rows and all(r["account"] and r["account"]["email"] for r in rows)  # NocoDB's own record of who


def test_calendar_sync_command(nocodb, store, monkeypatch):
    from typer.testing import CliRunner

    from actops.cli import app

    monkeypatch.setenv("NOCODB_URL", nocodb[0])
    monkeypatch.setenv("NOCODB_TOKEN", nocodb[1])
    out = CliRunner().invoke(app, ["calendar", "sync", "--dry-run", "--prefix", store.prefix])
    assert out.exit_code == 0, out.output
    assert "新增 0 天" in out.output and "dry run: would add 0 dates" in out.output
