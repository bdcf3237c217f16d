"""The sample company: deterministic, complete and consistent with the schema."""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections import Counter, defaultdict

import pytest

from actops.schema import load_schema
from actops.schema.settings_ref import SettingValues, default_settings
from actops_dev.sample import generate

TODAY = dt.date(2026, 11, 22)
NOW = f"{TODAY.isoformat()} 00:00:00+08:00"
DECLARED = {"settings", "activity_types", "approval_routes", "kpi_definitions", "grade_bands"}
NOT_SAMPLED = {"calendar", "outbox", "run_log", "summaries", "audit_samples", "evaluations"}
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\+08:00$")
DOC_NAME = re.compile(r"^.+-(立项申请|策划|客户确认|执行|结项验收|归档)-\d{2}\(\d{4}-\d{2}-\d{2}\)$|^.+-\d{4}-\d{2}V\d+$")
# Fields that record something that already happened: always before "now" (today 00:00).
HAPPENED = {"submitted_at", "decided_at", "held_at", "opened_at", "at", "done_at", "closed_at",
            "reported_at", "minutes_submitted_at", "plan_confirmed_at", "posthoc_done_at"}


@pytest.fixture(scope="module")
def data() -> dict[str, list[dict]]:
    return generate(TODAY)


@pytest.fixture(scope="module")
def specs():
    return {t.name: t for b in load_schema() for t in b.tables}


def _roles(row: dict) -> set[str]:
    return set(filter(None, row.get("roles", "").split(",")))


def test_same_arguments_give_identical_rows(data):
    assert generate(TODAY) == data
    assert generate(TODAY, seed=7) != data


def test_only_sampled_tables_are_emitted(data, specs):
    assert set(data) <= set(specs)
    assert not set(data) & (DECLARED | NOT_SAMPLED)


def test_keys_are_present_and_unique(data, specs):
    for name, rows in data.items():
        key = specs[name].key
        keys = [r.get(key) for r in rows]
        assert all(keys), f"{name}: row without {key}"
        dup = [k for k, n in Counter(keys).items() if n > 1]
        assert not dup, f"{name}: duplicate keys {dup[:5]}"


def test_field_names_are_known_and_writable(data, specs):
    for name, rows in data.items():
        fields = {f.name: f for f in specs[name].fields}
        for row in rows:
            unknown = set(row) - set(fields)
            assert not unknown, f"{name}: unknown fields {sorted(unknown)}"
            assert "data_issue" not in row
            computed = [k for k in row if fields[k].computed or fields[k].type == "attachment"]
            assert not computed, f"{name}: computed/attachment fields {computed}"


@pytest.mark.req("ORG-1")
def test_every_ref_resolves(data, specs):
    keys = {name: {r[specs[name].key] for r in rows} for name, rows in data.items()}
    for name in DECLARED:
        keys[name] = {str(r[specs[name].key]) for r in specs[name].rows}
    for name, rows in data.items():
        for f in specs[name].fields:
            if f.type != "ref":
                continue
            for row in rows:
                v = row.get(f.name)
                if v not in (None, ""):
                    assert v in keys.get(f.ref, set()), f"{name}.{f.name}={v!r}: no such {f.ref}"


def test_values_match_field_types(data, specs):
    for name, rows in data.items():
        fields = {f.name: f for f in specs[name].fields}
        for row in rows:
            for k, v in row.items():
                f = fields[k]
                where = f"{name}.{k}={v!r}"
                if f.type == "select":
                    assert v in f.options, where
                elif f.type == "multiselect":
                    assert v and set(v.split(",")) <= set(f.options), where
                elif f.type == "date":
                    assert isinstance(v, str) and DATE.match(v), where
                    dt.date.fromisoformat(v)
                elif f.type == "datetime":
                    assert isinstance(v, str) and DATETIME.match(v), where
                    dt.datetime.fromisoformat(v)
                elif f.type == "checkbox":
                    assert isinstance(v, bool), where
                elif f.type == "number":
                    assert isinstance(v, int) and not isinstance(v, bool), where
                elif f.type in ("decimal", "currency"):
                    assert isinstance(v, (int, float)) and not isinstance(v, bool), where
                elif f.type == "rating":
                    assert isinstance(v, int) and 1 <= v <= 5, where
                else:
                    assert isinstance(v, str) and v, where


def test_required_fields_are_filled(data, specs):
    for name, rows in data.items():
        required = [f.name for f in specs[name].fields if f.required]
        for row in rows:
            missing = [f for f in required if row.get(f) in (None, "")]
            assert not missing, f"{name} {row.get(specs[name].key)}: missing {missing}"


def test_what_happened_lies_before_today(data):
    for name, rows in data.items():
        for row in rows:
            for k in HAPPENED & set(row):
                assert row[k] < NOW, f"{name}.{k}={row[k]} is not before {NOW}"


@pytest.mark.req("ORG-1")
def test_minimum_counts(data):
    assert len(data["departments"]) >= 8
    assert len(data["employees"]) >= 80
    assert len(data["customers"]) >= 40
    assert len(data["activities"]) >= 300
    acts = data["activities"]
    assert {a["type"] for a in acts} == {"市场推广", "客户交流", "团队建设", "培训", "销售", "技术"}
    assert {a["stage"] for a in acts} == {"立项申请", "策划", "客户确认", "执行", "结项验收", "归档"}
    reqs = data["approval_requests"]
    assert {r["status"] for r in reqs} == {"草稿", "审批中", "已通过", "已驳回", "已撤回"}
    assert {r["kind"] for r in reqs} == {"立项", "采购", "费用", "成果报告", "计划调整", "紧急采购"}
    amounts = [r["amount"] for r in reqs if "amount" in r]
    assert any(a < 10_000 for a in amounts)
    assert any(10_000 <= a < 100_000 for a in amounts)
    assert any(a >= 100_000 for a in amounts)
    for name in ("approval_steps", "approval_decisions", "stage_gates", "documents", "reports",
                 "meetings", "action_items", "kpi_results", "budget_lines", "expenses", "risks",
                 "risk_history", "feedback", "plans", "plan_tasks", "problems"):
        assert data[name], f"{name} is empty"


def test_stages_agree_with_dates(data):
    today = TODAY.isoformat()
    for a in data["activities"]:
        assert a["start_date"] <= a["end_date"]
        if a["start_date"] > today:
            assert a["stage"] in ("立项申请", "策划", "客户确认"), a
        elif a["end_date"] >= today:
            assert a["stage"] == "执行", a
        else:
            assert a["stage"] in ("结项验收", "归档"), a
        if a["stage"] == "归档":
            assert "closed_at" in a and "actual_cost" in a and "roi" in a
        if a["stage"] in ("执行", "结项验收", "归档"):
            assert "plan_confirmed_at" in a
    reqs = {r["code"]: r for r in data["approval_requests"]}
    for a in data["activities"]:
        req = reqs[a["initiation_request"]]
        assert req["kind"] == "立项" and req["activity"] == a["code"]
        if a["stage"] != "立项申请":
            assert req["status"] == "已通过"


@pytest.mark.req("ORG-1")
def test_organisation(data):
    emps = {e["code"]: e for e in data["employees"]}
    gm = emps["E0001"]
    assert {"总经理", "CEO"} <= _roles(gm) and "manager" not in gm
    depts = {d["code"]: d for d in data["departments"]}
    assert depts["D01"]["head"] == "E0001" and depts["D05"]["name"] == "内容部"
    for d in depts.values():
        head = emps[d["head"]]
        assert head["department"] == d["code"] and "部门负责人" in _roles(head)
        assert d["code"] == "D01" or d["parent"] in depts
    for e in emps.values():  # every chain ends at the general manager
        seen, cur = set(), e
        while "manager" in cur:
            assert cur["code"] not in seen
            seen.add(cur["code"])
            cur = emps[cur["manager"]]
        assert cur["code"] == "E0001"
    by_role = defaultdict(list)
    for e in emps.values():
        for r in _roles(e):
            by_role[r].append(e)
    assert len(by_role["总监"]) >= 2
    assert by_role["财务"] and all(e["department"] == "D07" for e in by_role["财务"])
    assert by_role["计划组"] and all(e["department"] == "D02" for e in by_role["计划组"])
    assert by_role["人事"] and by_role["审计"] and by_role["主管"]
    assert any(not e["active"] for e in emps.values())
    assert sum(e["active"] for e in emps.values()) > 0.9 * len(emps)


def test_steps_follow_the_routes(data, specs):
    # Route amounts are {setting: tier1_amount} etc.: read them as a fresh base shows them.
    defaults = SettingValues(default_settings(specs["settings"].rows))
    types = {f.name: f.type for f in specs["approval_routes"].fields}
    routes = []
    for raw in specs["approval_routes"].rows:
        r, notes = defaults.row(raw, types)
        assert not notes
        roles = [x.strip() for x in re.split(r"→|>", r["steps"])]
        routes.append((r["kind"], r.get("min_amount"), r.get("max_amount"), roles))

    def route(kind, amount):
        a = amount or 0
        return next(roles for k, lo, hi, roles in routes
                    if k == kind and (lo is None or a >= lo) and (hi is None or a < hi))

    emps = {e["code"]: e for e in data["employees"]}
    steps = defaultdict(list)
    for s in data["approval_steps"]:
        steps[s["request"]].append(s)
    decisions = {d["step"]: d for d in data["approval_decisions"] if "step" in d}
    for req in data["approval_requests"]:
        mine = sorted(steps[req["code"]], key=lambda s: s["seq"])
        if req["status"] == "草稿":
            assert not mine and "submitted_at" not in req
            continue
        assert [s["role"] for s in mine] == route(req["kind"], req.get("amount"))
        assert [s["seq"] for s in mine] == list(range(1, len(mine) + 1))
        statuses = [s["status"] for s in mine]
        if req["status"] == "审批中":
            i = statuses.index("待审批")
            assert statuses == ["已通过"] * i + ["待审批"] + ["未开始"] * (len(mine) - i - 1)
            assert "opened_at" in mine[i] and "decided_at" not in req
        elif req["status"] == "已通过":
            assert set(statuses) == {"已通过"} and req["decided_at"] == mine[-1]["decided_at"]
        elif req["status"] == "已驳回":
            assert statuses.count("已驳回") == 1
        for s in mine:
            if s["role"] == "财务":
                assert "财务" in _roles(emps[s["assignee"]]) and emps[s["assignee"]]["department"] == "D07"
            if s["role"] in ("总经理", "CEO"):
                assert s["assignee"] == "E0001"
            if s["role"] == "主管":
                assert s["assignee"] == emps[req["applicant"]]["manager"]
            if s["status"] in ("已通过", "已驳回"):
                d = decisions[s["code"]]
                assert d["by"] == s["assignee"] and d["at"] == s["decided_at"]
                assert d["decision"] == ("通过" if s["status"] == "已通过" else "驳回")
            else:
                assert s["code"] not in decisions or decisions[s["code"]]["decision"] == "撤回"
    pending = [s for s in data["approval_steps"] if s["status"] == "待审批"]
    week_ago = (TODAY - dt.timedelta(days=7)).isoformat()
    assert pending and min(s["opened_at"] for s in pending) < week_ago  # some long overdue


def test_approval_chronology(data):
    steps = defaultdict(list)
    for s in data["approval_steps"]:
        steps[s["request"]].append(s)
        if "decided_at" in s:
            assert s["opened_at"] <= s["decided_at"], s
    for req in data["approval_requests"]:
        mine = sorted(steps[req["code"]], key=lambda s: s["seq"])
        if mine:
            assert mine[0]["opened_at"] == req["submitted_at"]
        for a, b in itertools.pairwise(mine):
            if "opened_at" in b:
                assert b["opened_at"] == a["decided_at"]
        if "decided_at" in req:
            assert req["submitted_at"] <= req["decided_at"]


def test_emergency_approvals(data):
    emps = {e["code"]: e for e in data["employees"]}
    reqs = data["approval_requests"]
    em = [r for r in reqs if r["emergency"]]
    assert 0.03 <= len(em) / len(reqs) <= 0.08
    for r in em:
        assert "总监" in _roles(emps[r["emergency_by"]]) and r["emergency_by"] != r["applicant"]
        assert r["posthoc_due_at"] > r["submitted_at"]
    assert any("posthoc_done_at" in r for r in em)
    assert any("posthoc_done_at" not in r for r in em)


def test_stage_gates(data):
    acts = {a["code"]: a for a in data["activities"]}
    meetings = {m["code"] for m in data["meetings"]}
    gates = defaultdict(list)
    for g in data["stage_gates"]:
        gates[g["activity"]].append(g)
        assert g["owner"] == acts[g["activity"]]["owner"]
        if g["status"] == "已完成":
            assert "held_at" in g and g["minutes"] in meetings
        else:
            assert "held_at" not in g
    for code, a in acts.items():
        kinds = {g["gate"] for g in gates[code]}
        if a["stage"] != "立项申请":
            assert {"启动会", "客户确认", "结项验收"} <= kinds
        long = (dt.date.fromisoformat(a["end_date"]) - dt.date.fromisoformat(a["start_date"])).days > 90
        assert ("中期评审" in kinds) == (long and a["stage"] != "立项申请")
    overdue = [g for g in data["stage_gates"] if g["status"] == "待召开" and g["due_at"] < NOW]
    assert overdue


def test_document_names(data):
    docs = data["documents"]
    for d in docs:
        assert bool(DOC_NAME.match(d["name"])) == d["name_ok"], d
    bad = sum(not d["name_ok"] for d in docs) / len(docs)
    assert 0.04 <= bad <= 0.2


def test_reports(data):
    reps = data["reports"]
    assert {r["kind"] for r in reps} == {"日报", "周报", "月报"}
    for r in reps:
        start = dt.date.fromisoformat(r["period_start"])
        due = {"日报": start + dt.timedelta(days=1),
               "周报": start + dt.timedelta(days=7),
               "月报": (start.replace(day=28) + dt.timedelta(days=4)).replace(day=5)}[r["kind"]]
        assert r["due_at"] == f"{due.isoformat()} 18:00:00+08:00"
        if r["kind"] == "周报":
            assert start.weekday() == 0
        if "submitted_at" in r:
            assert r["late"] == (r["submitted_at"] > r["due_at"])
        else:
            assert not r["late"]
        if r.get("late_reason"):
            assert r["late"]
    late = [r for r in reps if r["late"]]
    assert 0.05 <= len(late) / len(reps) <= 0.3
    assert any(not r.get("late_reason") for r in late)
    assert any("submitted_at" not in r for r in reps)
    assert any(e["late_streak"] >= 3 for e in data["employees"])


def test_meetings_and_action_items(data):
    for m in data["meetings"]:
        held = dt.datetime.fromisoformat(m["held_at"])
        assert dt.datetime.fromisoformat(m["minutes_due_at"]) - held == dt.timedelta(hours=24)
    assert any("minutes_submitted_at" not in m for m in data["meetings"])
    assert any(m["kind"] == "例会" for m in data["meetings"])
    emps = {e["code"]: e for e in data["employees"]}
    for it in data["action_items"]:
        assert it["department"] == emps[it["owner"]]["department"]
        assert ("done_at" in it) == (it["status"] == "已完成")
    assert any(it["status"] in ("未开始", "进行中") and it["due_date"] < TODAY.isoformat()
               for it in data["action_items"])


def test_budget_lines_and_expenses(data):
    acts = {a["code"]: a for a in data["activities"]}
    spent = defaultdict(float)
    for e in data["expenses"]:
        assert e["amount"] > 0
        if e["status"] in ("已批准", "已支付"):
            spent[(e["activity"], e["category"])] += e["amount"]
    by_act = defaultdict(float)
    lines = data["budget_lines"]
    for b in lines:
        assert b["spent"] == pytest.approx(spent[(b["activity"], b["category"])], abs=0.01)
        by_act[b["activity"]] += b["amount"]
    for code, total in by_act.items():
        assert total == pytest.approx(acts[code]["budget"], rel=0.05)
    over = sum(b["spent"] > b["amount"] for b in lines) / len(lines)
    warn = sum(0.8 * b["amount"] <= b["spent"] <= b["amount"] for b in lines) / len(lines)
    assert 0.04 <= over <= 0.15 and 0.05 <= warn <= 0.2
    reqs = {r["code"]: r for r in data["approval_requests"]}
    with_req = [e for e in data["expenses"] if "request" in e]
    assert with_req and all(reqs[e["request"]]["kind"] == "费用" for e in with_req)


def test_kpis_risks_feedback_plans(data):
    periods = {k["period"] for k in data["kpi_results"]}
    assert periods == {"2025-Q4", "2026-Q1", "2026-Q2", "2026-Q3"}
    assert {k["subject"] for k in data["kpi_results"] if k["kpi"] == "K-REACH"} == {"D05"}
    for r in data["risks"]:
        assert r["likelihood"] in range(1, 6) and r["impact"] in range(1, 6)
    hist = defaultdict(list)
    for h in data["risk_history"]:
        hist[h["risk"]].append(h)
        assert h["score"] == h["likelihood"] * h["impact"]
    assert set(hist) == {r["code"] for r in data["risks"]}
    assert any(len(v) >= 2 for v in hist.values())
    sat = Counter(f["satisfaction"] for f in data["feedback"])
    assert sat[4] + sat[5] > 0.6 * sum(sat.values())
    assert {p["kind"] for p in data["plans"]} == {"年度", "季度", "月度"}
    assert any(p["status"] in ("待处理", "处理中") and p["due_date"] < TODAY.isoformat()
               for p in data["problems"])


def test_scale_multiplies_activities(data):
    big = generate(TODAY, scale=2)
    ratio = len(big["activities"]) / len(data["activities"])
    assert ratio >= 1.8 and ratio <= 2.2
    assert len(big["employees"]) > 1.6 * len(data["employees"])
    assert len(big["departments"]) >= len(data["departments"])
