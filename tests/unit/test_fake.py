"""The in-memory NocoDB: schema apply, Store round trips and call costs, without a server."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import httpx
import pytest

from actops import errors
from actops.kernel.watermarks import take
from actops.nocodb import F
from actops.nocodb.fake import FakeApi
from actops.records import Issue
from actops.schema import load_schema
from actops.schema.sync import apply, plan
from actops.store import Store

T0 = datetime(2026, 10, 9, 8, 0, tzinfo=UTC)
STAMP = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\+00:00$")


class Clock:
    def __init__(self) -> None:
        self.t = T0

    def __call__(self) -> datetime:
        return self.t


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def store(clock):
    api = FakeApi(now=clock)
    apply(api, load_schema(), prefix="t-", only={"employees", "action_items", "settings"}, log=lambda s: None)
    return Store(api, "t-")


def people(n, start=1):
    return [{"code": f"E{i:04d}", "name": f"员工{i}", "department": "D01", "active": i % 2 == 0,
             "roles": "员工,主管" if i % 10 == 0 else "员工", "late_streak": i % 7} for i in range(start, start + n)]


def calls(api):
    return dict(api.calls)


def test_schema_apply_into_the_fake_then_a_second_plan_has_nothing_to_do():
    api = FakeApi(now=Clock())
    apply(api, load_schema(), prefix="t-", log=lambda s: None)
    writes = api.calls["POST"] + api.calls["PATCH"]
    again = plan(api, load_schema(), prefix="t-")
    assert again.changes == [] and again.drift == []
    assert api.calls["POST"] + api.calls["PATCH"] == writes  # the plan only reads
    tables = [t.table_name for t in api.server.tables.values()]
    assert all(re.fullmatch(r"nc_[a-z0-9_]{4}___\w+", n) for n in tables)
    assert Store(api, "t-").settings()  # seed rows arrived


def test_250_rows_cost_three_inserts_and_come_back_by_filter(store):
    api, emp = store.api, store.table("employees")
    before = calls(api)
    ids = emp.create(people(250))
    assert len(ids) == 250 and ids == sorted(ids)
    assert api.calls["POST"] - before.get("POST", 0) == 3
    active, issues = emp.read(emp.where(F("active").checked()))
    assert issues == [] and len(active) == 125
    assert emp.table.count(emp.where(F("roles").any_of(["主管"]))) == 25
    assert emp.table.count(emp.where(("late_streak", "gte", 6))) == 35


def test_keyset_paging_costs_one_call_per_page(store):
    api, emp = store.api, store.table("employees")
    emp.create(people(250))
    before = api.calls["GET"]
    pages = list(emp.table.pages(page_size=100))
    assert [len(p) for p in pages] == [100, 100, 50]
    assert api.calls["GET"] - before == 3
    assert [r["Id"] for p in pages for r in p] == list(range(1, 251))
    body = api.request("GET", f"/api/v2/tables/{emp.table.id}/records", params={"limit": 5000})
    assert body["pageInfo"] == {"totalRows": 250, "page": 1, "pageSize": 1000, "isFirstPage": True,
                                "isLastPage": True}


def test_first_update_count_and_the_time_stamps(store, clock):
    emp = store.table("employees")
    emp.create(people(5))
    row = emp.table.get(3)
    assert STAMP.match(row["CreatedAt"]) and row["UpdatedAt"] is None
    assert emp.table.first("-UpdatedAt", ["UpdatedAt"], "(UpdatedAt,notblank)") is None
    clock.t = T0 + timedelta(minutes=5)
    assert emp.update([{"Id": 3, "title": "经理"}]) == 1
    assert emp.table.get(3)["UpdatedAt"] == "2026-10-09 08:05:00+00:00"
    assert emp.table.first("-UpdatedAt", ["UpdatedAt"], "(UpdatedAt,notblank)") == {"UpdatedAt": "2026-10-09 08:05:00+00:00"}
    assert emp.table.first("-Id", ["Id"]) == {"Id": 5}
    changed = emp.where(F("UpdatedAt").on_or_after(T0 + timedelta(minutes=1)))
    assert emp.table.count(changed) == 1
    assert take(store, ["employees"], T0 + timedelta(hours=1)).as_json() == {"employees": ["2026-10-09 08:05:00+00:00", 5, 5]}


def test_ids_by_key_create_missing_and_mark_issues(store):
    emp = store.table("employees")
    emp.create(people(3))
    assert emp.ids_by_key() == {"E0001": 1, "E0002": 2, "E0003": 3}
    assert emp.create_missing(people(5)) == (2, 3)
    assert emp.create_missing(people(5)) == (0, 5)
    emp.read()  # remembers the notes as read
    assert emp.mark_issues([Issue("员工", 2, "email", "x", "邮箱格式不对")], checked=[1, 2, 3]) == 1
    assert "【数据检查】" in emp.table.get(2)["数据问题"]
    assert emp.tagged("数据检查") == [2]
    assert emp.mark_issues([], checked=[2]) == 1 and emp.table.get(2)["数据问题"] is None


def test_filters_mean_what_nocodb_makes_of_them(store):
    items = store.table("action_items")
    rows = [{"code": f"A{i}", "title": f"Task {i}", "owner": "E1", "due_date": date(2026, 10, i + 1),
             "status": s} for i, s in enumerate(["未开始", "进行中", "已完成", None])]
    items.create(rows)

    def codes(*clauses):
        return sorted(r["code"] for r in items.rows(items.where(*clauses), ["code"]))

    assert codes(F("status") != "已完成") == ["A0", "A1", "A3"]  # neq keeps the blank one
    assert codes(~(F("status") == "已完成")) == ["A0", "A1"]  # NOT (NULL = x) is NULL: left out
    assert codes(F("title").like("task 1")) == ["A1"]  # case-insensitive, %…% added
    assert codes(F("status").is_blank()) == ["A3"]
    assert codes(F("due_date").before(date(2026, 10, 3))) == ["A0", "A1"]
    assert codes(F("due_date").on_or_after("2026-10-03")) == ["A2", "A3"]
    assert codes((F("status") == "未开始") | (F("status") == "进行中") & (F("code") == "A0")) == ["A0"]
    assert codes("(事项编号,eq,A0)~or(事项编号,eq,A1)~and(事项编号,eq,A2)") == ["A0"]  # AND binds first
    assert codes(F("status").none_of(["已完成", "进行中"])) == ["A0", "A3"]
    with pytest.raises(errors.RequestError, match="is not supported"):
        items.table.count("(截止日期,lt,2026-10-03)")  # a bare date is refused
    with pytest.raises(errors.RequestError, match="Column alias 'nope' not found"):
        items.table.count("(nope,eq,1)")


def test_the_servers_limits_and_refusals(store):
    api, emp = store.api, store.table("employees")
    url = f"/api/v2/tables/{emp.table.id}/records"
    with pytest.raises(errors.RequestError) as exc:
        api.request("POST", url, json=[{"工号": f"X{i}"} for i in range(101)])
    assert exc.value.status == 422 and "Maximum 100" in str(exc.value)
    with pytest.raises(errors.RequestError, match="Invalid option"):
        emp.table.create([{"工号": "X1", "通知方式": "飞鸽传书"}])
    assert emp.table.count() == 0  # nothing written
    emp.table.create([{"工号": "X1", "no such field": 1}])
    assert emp.table.get(1)["工号"] == "X1"
    with pytest.raises(errors.RequestError, match="Offset"):
        api.request("GET", url, params={"offset": 5})
    with pytest.raises(errors.NotFoundError):
        emp.table.update([{"Id": 99, "工号": "X9"}])


def test_a_failed_call_is_retried_and_counted_like_the_real_client(store):
    api, emp = store.api, store.table("employees")
    emp.create(people(2))
    before = api.calls["PATCH"]
    api.fail_next("PATCH", "/records", status=503)
    emp.update([{"Id": 1, "title": "x"}])
    assert api.calls["PATCH"] - before == 2 and len(api.sleeps) == 1
    api.fail_next("GET", "/records", exc=httpx.ConnectError("down"), times=5)
    with pytest.raises(errors.ConnectError):
        emp.table.count()


def test_an_insert_that_commits_then_fails_is_recovered_by_key_without_duplicates(store):
    api, emp = store.api, store.table("employees")
    api.fail_next("POST", "/records", status=502, commit=True, after=1)
    ids = emp.create(people(150))  # second batch commits, then answers 502
    assert len(ids) == 150 and emp.table.count() == 150
    assert len(emp.ids_by_key()) == 150


def test_a_column_renamed_in_the_grid_still_answers_to_its_name(store):
    api, emp = store.api, store.table("employees")
    col = emp.table.column("title")
    api.request("PATCH", f"/api/v2/meta/columns/{col['id']}", json={"title": "岗位"})
    renamed = Store(api, "t-").table("employees")
    renamed.create(people(1))
    renamed.update([{"Id": 1, "title": "经理"}])
    assert renamed.table.get(1)["岗位"] == "经理"
    assert renamed.where(F("title") == "经理") == "(岗位,eq,经理)"


def test_the_escalation_job_runs_end_to_end_on_the_fake():
    from actops.jobs import escalations
    from actops.kernel.calendar import TZ
    from actops_dev.seed import seed

    api = FakeApi(now=Clock())
    apply(api, load_schema(), prefix="t-", log=lambda s: None)
    store = Store(api, "t-")
    seed(store, date(2026, 10, 9))
    first = escalations.run(store, datetime(2026, 10, 12, 10, tzinfo=TZ))
    assert first.enqueued > 0
    outbox = store.table("outbox").table.count()
    again = escalations.run(store, datetime(2026, 10, 12, 10, 5, tzinfo=TZ))
    assert again.enqueued == 0 and store.table("outbox").table.count() == outbox  # nothing twice


def test_runtime_code_never_imports_the_fake():
    from pathlib import Path

    import actops

    src = Path(actops.__file__).parent
    users = [p for p in src.rglob("*.py") if "nocodb.fake" in p.read_text(encoding="utf-8")
             and "fake" not in p.relative_to(src).parts]
    assert users == []


def test_create_new_reads_the_key_column_when_that_takes_fewer_calls(store):
    """bench/evaluations.py: 5,000 new 考评表 rows were checked with 100 ``in`` lookups (each a
    scan of the unindexed key column); the table's keys in pages of 1,000 take fewer calls."""
    emp = store.table("employees")
    emp.create(people(40))
    store.api.calls.clear()
    assert emp.create_new(people(60)) == 20  # 2 lookups: no count, the ``in`` filters as before
    assert store.api.calls == {"GET": 2, "POST": 1}
    store.api.calls.clear()
    assert emp.create_new(people(300)) == 240  # 6 lookups against a count + one page of keys
    assert store.api.calls == {"GET": 2, "POST": 3}
    store.api.calls.clear()
    assert emp.create_new(people(300)) == 0  # a rerun inserts nothing twice
    assert store.api.calls == {"GET": 2}


def test_reading_links_inverts_the_linked_keys_once_per_store(clock, monkeypatch):
    """bench/audit.py: the {Id: key} map of a linked table was rebuilt for every row read, so
    reading 200,000 linked rows cost rows × linked-table size (28 of 63 s at a fifth of it)."""
    api = FakeApi(now=clock)
    apply(api, load_schema(), prefix="t-", only={"departments", "employees"}, log=lambda s: None)
    store = Store(api, "t-")
    store.table("departments").create([{"code": "D01", "name": "总经办"}])
    store.table("employees").create(people(30))
    asked, real = [], store.key_ids
    monkeypatch.setattr(store, "key_ids", lambda name: asked.append(name) or real(name))
    recs, issues = store.table("employees").read()
    assert len(recs) == 30 and {r.department for r in recs} == {"D01"} and not issues
    assert asked == ["departments"]
    store.table("departments").create([{"code": "D02", "name": "市场部"}])  # new keys: read again
    store.table("employees").create([{**people(1, start=31)[0], "department": "D02"}])
    recs, _ = store.table("employees").read()
    assert recs[-1].department == "D02" and asked == ["departments"] * 3


@pytest.mark.req("OPS-3")
def test_a_filtered_read_takes_linked_keys_from_rows_read_or_by_id_not_the_whole_key_column(clock, monkeypatch):
    """An approvals run after one decision read the whole key column of 审批申请 to turn its
    steps' request links into codes, right after reading those requests (and of 部门 and 员工
    around reading every row of them). Keys come from the rows the store read (all of a table's
    rows are its key map); a filtered read's few other links are looked up by Id."""
    api = FakeApi(now=clock)
    apply(api, load_schema(), prefix="t-", only={"departments", "employees"}, log=lambda s: None)
    seed = Store(api, "t-")
    seed.table("departments").create([{"code": f"D{i:02d}", "name": f"部门{i}"} for i in range(1, 4)])
    seed.table("employees").create([{**p, "department": f"D{i % 3 + 1:02d}"} for i, p in enumerate(people(30))])
    store = Store(api, "t-")
    asked, real = [], store.key_ids
    monkeypatch.setattr(store, "key_ids", lambda name: asked.append(name) or real(name))
    depts, emps = store.table("departments"), store.table("employees")
    depts.read(depts.where(F("code") == "D01"))
    assert emps.titles  # its meta read
    api.calls.clear()
    recs, _ = emps.read(emps.where(F("department") == "D01"))
    assert {r.department for r in recs} == {"D01"} and dict(api.calls) == {"GET": 1} and asked == []
    recs, _ = emps.read(emps.where(F("department").in_(["D02", "D03"])))  # D02, D03 by Id: one call
    assert {r.department for r in recs} == {"D02", "D03"} and dict(api.calls) == {"GET": 3} and asked == []
    store = Store(api, "t-")  # a read of every row: its keys are the table's key map
    store.table("departments").read()
    api.calls.clear()
    recs, _ = store.table("employees").read()
    assert len({r.department for r in recs}) == 3
    assert dict(api.calls) == {"GET": 2}  # employees' meta and rows: no read of the departments' keys
    assert store.key_ids("employees") == store.table("employees").ids_by_key()  # as read
    assert dict(api.calls) == {"GET": 3}  # ids_by_key's own read only
