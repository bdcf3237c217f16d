"""Bad input typed into real NocoDB grids: reported by table, Id and field; the rest goes on."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from actops.checks import check_all


@pytest.fixture(scope="module")
def store(make_store):
    return make_store({"departments", "employees"})


@pytest.mark.req("ORG-1", "ORG-2")
def test_each_bad_row_is_reported_on_the_row_and_good_rows_pass(store, api, nocodb_db):
    from actops.errors import RequestError

    emps = store.table("employees")
    store.table("departments").create([{"code": "D01", "name": "总经理办公室"}])
    # An option the engine does not know: an admin added it in the grid's field editor.
    col = emps.table.column("channel")
    opts = col["colOptions"]["options"] + [{"title": "飞鸽传书"}]
    api.request("PATCH", f"/api/v2/meta/columns/{col['id']}",
                json={"title": col["title"], "column_name": "channel", "uidt": "SingleSelect", "colOptions": {"options": opts}})
    emps.table.meta(refresh=True)
    raw = emps.table
    t = emps.titles
    raw.create([
        {t["code"]: "E1", t["name"]: "王总", t["department"]: "D01", t["active"]: True},
        {t["code"]: "E3", t["name"]: "选项错", t["department"]: "D01", t["channel"]: "飞鸽传书"},
        {t["code"]: "E5", t["name"]: "循环甲", t["department"]: "D01", t["manager"]: "E6"},
        {t["code"]: "E6", t["name"]: "循环乙", t["department"]: "D01", t["manager"]: "E5"},
        {t["code"]: "E7", t["name"]: "没部门"},
        {t["code"]: "E8", t["name"]: "正常", t["department"]: "D01", t["manager"]: "E1"},
    ], key=t["code"])
    # Text in a number and a date column: NocoDB on SQLite keeps it (a garbage date typed through
    # the API becomes "Invalid Date", see the next test); on PostgreSQL the columns are typed and
    # NocoDB refuses the row (400), so such a row cannot exist there.
    held = set()
    for row in ({t["code"]: "E2", t["name"]: "数字错", t["department"]: "D01", t["late_streak"]: "abc"},
                {t["code"]: "E4", t["name"]: "日期错", t["department"]: "D01", t["on_leave_until"]: "abc"}):
        try:
            raw.create([row], key=t["code"])
            held.add(row[t["code"]])
        except RequestError as exc:
            assert "Invalid value 'abc'" in str(exc) or "date / time value is invalid" in str(exc), exc
    if nocodb_db is not None:
        assert held == ({"E2", "E4"} if nocodb_db == "sqlite" else set())

    issues = check_all(store, mark=True, tables=["departments", "employees"])
    got = {(i.row_id, i.field) for i in issues if i.table == "员工"}
    ids = {r["code"]: r["Id"] for r in emps.rows(fields=["code"])}
    assert "E2" not in held or (ids["E2"], "连续逾期报告数") in got
    assert (ids["E3"], "通知方式") in got
    assert "E4" not in held or (ids["E4"], "休假至") in got
    assert (ids["E5"], "直属上级") in got and (ids["E6"], "直属上级") in got
    assert (ids["E7"], "所属部门") in got
    assert not any(rid in (ids["E1"], ids["E8"]) for rid, _ in got)

    marked = {r["code"]: r.get("data_issue") for r in emps.rows(fields=["code", "data_issue"])}
    assert "E2" not in held or "应为整数" in marked["E2"]
    assert "E4" not in held or "不是有效日期" in marked["E4"]
    assert "循环" in marked["E5"] and marked["E8"] is None

    # Fixed in the grid → the next check clears the note; the others keep theirs.
    raw.update([{"Id": ids["E3"], t["channel"]: "邮件"}]
               + ([{"Id": ids["E2"], t["late_streak"]: 2}] if "E2" in held else []))
    check_all(store, mark=True, tables=["departments", "employees"])
    marked = {r["code"]: r.get("data_issue") for r in emps.rows(fields=["code", "data_issue"])}
    assert marked["E3"] is None and marked["E5"]
    assert "E2" not in held or (marked["E2"] is None and marked["E4"])


def test_garbage_date_is_refused_before_writing_because_nocodb_would_roll_it_over(store):
    from actops.errors import RecordValidationError

    emps = store.table("employees")
    rows = [{"code": "E20", "name": "好", "department": "D01", "on_leave_until": "2026-12-01"},
            {"code": "E21", "name": "坏", "department": "D01", "on_leave_until": "2026-13-45"}]
    good, issues = emps.split_valid(rows)
    assert [r["code"] for r in good] == ["E20"]
    assert [(i.table, i.field, i.value) for i in issues] == [("员工", "休假至", "2026-13-45")]
    with pytest.raises(RecordValidationError) as exc:
        emps.create(rows)
    assert "休假至" in str(exc.value)
    assert "E21" not in emps.ids_by_key() and "E20" not in emps.ids_by_key()  # nothing half-written


def _cli(*args, env_extra):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NOCODB_", "ACTOPS_"))}
    env.update(env_extra)
    return subprocess.run([sys.executable, "-m", "actops.cli", *args], capture_output=True, text=True, env=env, timeout=120)


def test_wrong_token_is_one_clear_line(nocodb, tmp_path):
    url, _ = nocodb
    r = _cli("status", env_extra={"NOCODB_URL": url, "NOCODB_TOKEN": "wrong", "ACTOPS_ENV_FILE": str(tmp_path / "none")})
    assert r.returncode == 1
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert "token" in r.stderr.lower()


def test_unreachable_nocodb_is_one_clear_line(tmp_path):
    r = _cli("schema", "apply", "--dry-run",
             env_extra={"NOCODB_URL": "http://127.0.0.1:9", "NOCODB_TOKEN": "x", "ACTOPS_ENV_FILE": str(tmp_path / "none")})
    assert r.returncode == 1
    assert "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert "unreachable" in r.stderr or "not answering" in r.stderr
