"""Scoring after an edit reads the edit, not the quarter (issue 12, OPS-3): the rows of the
previous run are kept on disk (kernel.row_cache) and patched with the rows changed since.

The oracle is the read from scratch: after every round of random staff edits (a row moved in or
out of the quarter, another owner, another activity, a value the rules cannot read and its fix,
inserts, deletes, a plan's department, an activity's type), the patched copy must give exactly
the rows and problems a read from scratch gives."""

from __future__ import annotations

import json
import random
from datetime import UTC, date, datetime, timedelta

import pytest

from actops.jobs.evaluations.ops_rows import FIELDS, local_copy, read_ops
from actops.jobs.evaluations.periods import parse_period
from actops.kernel.calendar import TZ
from actops.kernel.watermarks import take
from tests.unit.fake_world import fake_store
from tests.unit.ops_company import DAYS, EDGES, ops_company

OPS = tuple(FIELDS)
PEOPLE = ["E02", "E04", "E05"]
Q3 = [parse_period("2026-Q3")]


def world():
    clock = {"now": datetime(2026, 12, 1, 2, 0, tzinfo=UTC)}
    api, store = fake_store(clock)
    ops_company(store)
    return clock, api, store


def with_copy(store, clock, periods=Q3, tables=None, hours=24, calls=None):
    """read_ops as the job calls it: marks taken as the run begins, then the copy (``calls``
    gets the calls the read made, the marks apart)."""
    clock["now"] += timedelta(minutes=5)  # the last edits are settled by now
    marks = take(store, OPS, clock["now"])
    before = store.api.total_calls
    got = read_ops(store, periods, tables, local_copy(store, marks, clock["now"], periods, tables,
                                                      timedelta(hours=hours)))
    if calls is not None:
        calls.append(store.api.total_calls - before)
    return got


def same_as_scratch(store, got, periods=Q3, tables=None):
    want, want_issues = read_ops(store, periods, tables)
    rows, issues = got
    for n in OPS:
        assert rows[n] == want[n], n
    assert sorted(map(str, issues)) == sorted(map(str, want_issues))


def _edit(rnd: random.Random, store, n: int) -> None:
    t = {name: store.table(name) for name in OPS}
    ids = {name: [r["Id"] for r in t[name].table.all(None, ["Id"])] for name in OPS}
    acts = [r["code"] for r in t["activities"].rows(fields=["code"])]
    when = rnd.choice([None, *EDGES, "yesterday",  # 完成时间 as text no rule can read: a problem
                       datetime.combine(rnd.choice(DAYS), datetime.min.time(), TZ) + timedelta(hours=9)])
    kind = rnd.choice(["item", "item", "item", "feedback", "task", "activity", "plan", "insert", "delete"])
    if kind == "item":
        field, value = rnd.choice([("due_date", rnd.choice(DAYS)), ("status", rnd.choice(["未开始", "已完成", "已取消"])),
                                   ("owner", rnd.choice(PEOPLE)), ("activity", rnd.choice([None, *acts])),
                                   ("department", rnd.choice([None, "D02", "D07"])), ("done_at", when)])
        _set(t["action_items"], rnd.choice(ids["action_items"]), field, value)
    elif kind == "feedback":
        field, value = rnd.choice([("satisfaction", rnd.choice([None, 2, 4, 5])), ("activity", rnd.choice(acts)),
                                   ("submitted_at", when)])
        _set(t["feedback"], rnd.choice(ids["feedback"]), field, value)
    elif kind == "task":
        field, value = rnd.choice([("due_date", rnd.choice(DAYS)), ("status", rnd.choice(["未开始", "已完成"])),
                                   ("plan", f"P-{rnd.choice(['D02', 'D07'])}-{rnd.choice([2025, 2026])}"),
                                   ("done_at", when)])
        _set(t["plan_tasks"], rnd.choice(ids["plan_tasks"]), field, value)
    elif kind == "activity":
        field, value = rnd.choice([("type", rnd.choice(["市场推广", "培训"])), ("department", rnd.choice(["D02", "D07"])),
                                   ("end_date", rnd.choice(DAYS)), ("closed_at", when), ("owner", rnd.choice(PEOPLE)),
                                   ("stage", rnd.choice(["立项申请", "执行"]))])
        _set(t["activities"], rnd.choice(ids["activities"]), field, value)
    elif kind == "plan":
        _set(t["plans"], rnd.choice(ids["plans"]), "department", rnd.choice(["D02", "D07"]))
    elif kind == "insert":
        code = f"ACT-N{n}"
        t["activities"].create([{"code": code, "name": code, "type": "培训", "stage": "执行", "department": "D07",
                                 "owner": rnd.choice(PEOPLE), "start_date": DAYS[0], "end_date": rnd.choice(DAYS)}])
        t["action_items"].create([{"code": f"AI-N{n}", "title": "新事项", "owner": rnd.choice(PEOPLE),
                                   "activity": rnd.choice([code, *acts]), "due_date": rnd.choice(DAYS[540:640])}])
    else:
        name = rnd.choice(["action_items", "feedback", "plan_tasks"])
        t[name].table.delete([rnd.choice(ids[name])])


def _set(bound, rid: int, field: str, value) -> None:
    if value == "yesterday":  # what a grid accepts and no rule can read
        bound.table.update([{"Id": rid, bound.title(field): value}])
    else:
        bound.update([{"Id": rid, field: value}])


@pytest.mark.req("OPS-3", "KPI-2")
@pytest.mark.parametrize("seed", range(6))
def test_the_patched_copy_gives_what_a_read_from_scratch_gives(seed):
    rnd = random.Random(seed)
    clock, api, store = world()
    periods = [Q3, [parse_period("2026-Q3"), parse_period("2025-Q4")]][seed % 2]
    tables = [None, {"action_items"}, {"feedback", "plan_tasks", "plans"}][seed % 3]
    windows: list[str] = []  # reads of a period's rows from scratch (not of changed rows, not by key)
    api.watch(lambda r: windows.append(r.url.params["where"]) if r.method == "GET" and "UpdatedAt" not in (
        w := r.url.params.get("where") or "UpdatedAt") and ",in," not in w else None)
    same_as_scratch(store, with_copy(store, clock, periods, tables), periods, tables)
    patched = 0
    for n in range(14):
        for _ in range(rnd.randint(1, 4)):
            clock["now"] += timedelta(seconds=rnd.choice([1, 30, 200]))
            _edit(rnd, store, n)
        windows.clear()
        got = with_copy(store, clock, periods, tables)
        patched += not windows
        same_as_scratch(store, got, periods, tables)
    assert patched >= 7  # most rounds patched the copy; a round with a delete reads that table again


@pytest.mark.req("OPS-3")
def test_one_edit_costs_two_reads_and_no_edit_none():
    clock, api, store = world()
    with_copy(store, clock)
    calls: list[int] = []
    got = with_copy(store, clock, calls=calls)
    assert calls == [0]  # nothing changed since the copy's marks
    same_as_scratch(store, got)
    t = store.table("action_items")
    row = next(r for r in t.rows(fields=["due_date"]) if r["due_date"] and "2026-07" <= str(r["due_date"]) < "2026-10")
    t.update([{"Id": row["Id"], "status": "已完成", "done_at": datetime(2026, 8, 1, 10, tzinfo=TZ)}])
    got = with_copy(store, clock, calls=calls)
    assert calls[-1] == 2  # which rows changed, then those of them in the quarter
    same_as_scratch(store, got)
    before = api.total_calls
    read_ops(store, Q3)
    assert api.total_calls - before == 6  # from scratch: four tables' quarter, the plans, the named activities


@pytest.mark.req("OPS-3")
def test_a_copy_is_not_used_when_too_old_restored_over_or_unreadable(tmp_path, monkeypatch):
    clock, api, store = world()
    calls: list[int] = []
    with_copy(store, clock, calls=calls)
    with_copy(store, clock, hours=24, calls=calls)
    assert calls[1] == 0
    clock["now"] += timedelta(hours=20)
    t = store.table("action_items")
    t.update([{"Id": 1, "due_date": date(2026, 8, 3)}])
    with_copy(store, clock, calls=calls)  # patched and written again: it was still made 20 hours ago
    assert calls[2] == 2
    clock["now"] += timedelta(hours=5)  # made more than full_scan_hours ago: read again
    with_copy(store, clock, calls=calls)
    assert calls[3] == calls[0]
    files = list(tmp_path.glob("rows/evaluations-*.json"))
    assert len(files) == 1
    body = json.loads(files[0].read_text(encoding="utf-8"))
    body["marks"]["action_items"][1] += 1000  # as if the base were restored from an older dump
    files[0].write_text(json.dumps(body), encoding="utf-8")
    same_as_scratch(store, with_copy(store, clock, calls=calls))
    assert calls[-1] == calls[0]
    files[0].write_text("{not json", encoding="utf-8")
    same_as_scratch(store, with_copy(store, clock, calls=calls))
    assert calls[-1] == calls[0]


@pytest.mark.req("OPS-3")
def test_a_copy_that_cannot_be_written_is_said_and_the_rows_are_right(tmp_path, monkeypatch):
    (tmp_path / "blocked").write_text("a file where the folder should be", encoding="utf-8")
    monkeypatch.setenv("ACTOPS_CACHE_DIR", str(tmp_path / "blocked" / "rows"))
    clock, api, store = world()
    rows, issues = with_copy(store, clock)
    want, want_issues = read_ops(store, Q3)
    assert rows == want
    assert [str(i) for i in issues if i not in want_issues] == [
        next(str(i) for i in issues if "本地行副本未能写入" in i.reason)]
    monkeypatch.setenv("ACTOPS_CACHE_DIR", "")  # none kept
    clock2, api2, store2 = world()
    with_copy(store2, clock2)
    assert not list(tmp_path.glob("**/evaluations-*.json"))
