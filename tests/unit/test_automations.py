"""automations/*.yaml: the loader's errors, the shipped rules, conditions on delivered rows (SEC-2)."""

from __future__ import annotations

from pathlib import Path

import pytest

from actops.automations import RulesError, load_rules, missing_jobs
from actops.automations.rules import Condition, Rule
from actops.jobs.intake.forms import FORMS
from actops.registry import JOBS

pytestmark = pytest.mark.req("SEC-2")


def write(tmp_path: Path, name: str, text: str) -> Path:
    (tmp_path / name).write_text(text, encoding="utf-8")
    return tmp_path


def problems(tmp_path: Path) -> str:
    with pytest.raises(RulesError) as err:
        load_rules(tmp_path)
    return str(err.value)


GOOD = """
rules:
  - name: intake-reports
    table: reports
    events: [insert]
    condition: {field: code, op: blank}
    wake: intake
"""


def test_a_rule_loads_with_its_condition_on_the_column_title_nocodb_sends(tmp_path):
    [rule] = load_rules(write(tmp_path, "a.yaml", GOOD))
    assert (rule.name, rule.table, rule.events, rule.wake) == ("intake-reports", "reports", ("insert",), "intake")
    assert rule.condition == Condition("code", "blank", None, title="报告编号")
    assert rule.hook_title("insert") == "actops:intake-reports:insert"
    assert rule.source.endswith("a.yaml")


@pytest.mark.parametrize("text, expected", [
    ("rules:\n  - {name: r1, table: report, events: [insert], wake: intake}\n",
     ["a.yaml, rule r1, table: no table 'report' in schema/ (did you mean 'reports'?)", "schema/*/*.yaml"]),
    ("rules:\n  - {name: r1, table: reports, events: [delete], wake: intake}\n",
     ["a.yaml, rule r1, events: ['delete']: use a list of insert and/or update"]),
    ("rules:\n  - {name: r1, table: reports, events: [insert]}\n",
     ["a.yaml, rule r1, wake: missing; every rule needs name, table, events and wake"]),
    ("rules:\n  - {name: R 1, table: reports, events: [insert], wake: intake}\n",
     ["a.yaml, rule R 1, name: 'R 1' is not a valid rule name; use lower-case letters"]),
    ("rules:\n  - {name: r1, table: reports, event: [insert], wake: intake}\n",
     ["a.yaml, rule r1, event: unknown key (did you mean 'events'?)", "a.yaml, rule r1, events: missing"]),
    ("rules:\n  - {name: r1, table: reports, events: [insert], wake: intake, condition: {field: cod, op: blank}}\n",
     ["a.yaml, rule r1, condition: field 'cod': no such field in table reports (did you mean 'code'?)"]),
    ("rules:\n  - {name: r1, table: reports, events: [insert], wake: intake, condition: {field: code, op: like, value: x}}\n",
     ["a.yaml, rule r1, condition: op 'like': use one of eq, neq, in, not_in, blank, not_blank, changed"]),
    ("rules:\n  - {name: r1, table: reports, events: [insert], wake: intake, condition: {field: code, op: eq}}\n",
     ["a.yaml, rule r1, condition: op eq needs a value"]),
    ("rules:\n  - {name: r1, table: reports, events: [insert], wake: intake, condition: {field: code, op: changed}}\n",
     ["condition: op changed only means something for update events; add update to events"]),
    ("rules:\n  - {name: r1, table: approval_requests, events: [update], wake: intake,"
     " condition: {field: status, op: eq, value: 审核中}}\n",
     ["a.yaml, rule r1, condition: value '审核中' is not an option of status (草稿, 审批中, 已通过, 已驳回, 已撤回)"]),
    ("rules:\n  - {name: 7, table: reports, events: [insert], wake: intake}\n",
     ["a.yaml, rule #1, name: 7 is not a valid rule name"]),
    ("rules: {name: r1}\n", ["a.yaml: expected one key `rules:` holding a list of rules"]),
    ("rules: [\n", ["a.yaml: not valid YAML"]),
])
def test_each_problem_names_file_rule_and_field_and_says_what_to_do(tmp_path, text, expected):
    message = problems(write(tmp_path, "a.yaml", text))
    for part in expected:
        assert part in message, message


def test_every_problem_of_every_file_is_listed_at_once_and_names_are_unique(tmp_path):
    write(tmp_path, "a.yaml", GOOD)
    item = GOOD.split("rules:\n", 1)[1]
    write(tmp_path, "b.yaml", "rules:\n" + item.replace("table: reports", "table: nope") + item)
    message = problems(tmp_path)
    assert "b.yaml, rule intake-reports, table: no table 'nope'" in message
    assert "b.yaml, rule intake-reports, name: also declared in" in message and "a.yaml" in message


def test_a_missing_directory_says_how_to_point_at_one(tmp_path):
    with pytest.raises(RulesError, match="no such directory; create it or set ACTOPS_AUTOMATIONS_DIR"):
        load_rules(tmp_path / "absent")


def test_a_rule_whose_job_is_not_registered_is_named_with_what_to_do(tmp_path):
    [rule] = load_rules(write(tmp_path, "a.yaml", GOOD.replace("wake: intake", "wake: intak")))
    assert missing_jobs([rule], ["intake", "access"]) == {
        "intake-reports": f"{rule.source}, rule intake-reports, wake: no job 'intak' in the registry (known: "
                          "intake, access) (did you mean 'intake'?); add the job to src/actops/registry.py "
                          "or fix the name"}
    assert missing_jobs([rule], ["intak"]) == {}


# --- the rules shipped in automations/ ---------------------------------------------------------

def test_the_shipped_rules_load_and_every_form_table_wakes_intake_on_insert():
    rules = load_rules()
    intake = {r.table for r in rules if r.wake == "intake" and "insert" in r.events}
    assert intake == {f.table for f in FORMS}
    for r in rules:
        if r.wake == "intake":  # a row the engine or the sample writes carries its key
            assert r.condition is not None and (r.condition.field, r.condition.op) == ("code", "blank")


def test_the_shipped_rules_wake_approvals_on_requests_and_step_decisions():
    by_table = {r.table: r for r in load_rules() if r.wake == "approvals"}
    assert set(by_table["approval_requests"].events) == {"insert", "update"}
    assert by_table["approval_steps"].events == ("update",)


def test_every_shipped_rule_wakes_a_job_in_the_registry():
    missing = missing_jobs(load_rules(), [j.name for j in JOBS])
    assert not missing, "rules wake jobs that are not registered:\n" + "\n".join(missing.values())


# --- conditions on the rows NocoDB delivers ---------------------------------------------------

def rule(condition: Condition | None, events=("insert",)) -> Rule:
    return Rule("r", "reports", events, "intake", condition)


def event(rows, previous=None, kind="records.after.insert"):
    data = {"table_id": "m1", "table_name": "工作报告", "rows": rows}
    if previous is not None:
        data["previous_rows"] = previous
    return {"type": kind, "id": "e1", "version": "v3", "data": data}


BLANK_KEY = Condition("code", "blank", title="报告编号")


def test_a_condition_wakes_when_any_delivered_row_meets_it():
    assert rule(BLANK_KEY).wants(event([{"Id": 1, "报告编号": None}]))
    assert rule(BLANK_KEY).wants(event([{"Id": 1, "报告编号": "RPT-1"}, {"Id": 2, "报告编号": "  "}]))
    assert not rule(BLANK_KEY).wants(event([{"Id": 1, "报告编号": "RPT-1"}, {"Id": 2, "报告编号": "RPT-2"}]))


def test_without_anything_to_judge_by_the_job_is_woken_anyway():
    r = rule(BLANK_KEY)
    assert r.wants(None) and r.wants({}) and r.wants(event([]))
    assert r.wants(event([{"Id": 1, "Report no": "RPT-1"}]))  # column renamed in the grid
    assert rule(None).wants(event([{"Id": 1, "报告编号": "RPT-1"}]))


def test_value_and_change_conditions():
    status = Condition("status", "eq", "审批中", title="状态")
    assert status.holds({"状态": "审批中"}, None) and not status.holds({"状态": "草稿"}, None)
    assert Condition("status", "in", ("审批中", "已撤回"), title="状态").holds({"状态": "已撤回"}, None)
    assert Condition("status", "not_in", ("审批中",), title="状态").holds({"状态": "草稿"}, None)
    assert Condition("amount", "eq", 10000, title="金额").holds({"金额": 10000.0}, None)
    assert Condition("emergency", "eq", True, title="总监特批").holds({"总监特批": True}, None)
    changed = rule(Condition("status", "changed", title="状态"), events=("update",))
    kind = "records.after.update"
    assert changed.wants(event([{"Id": 1, "状态": "审批中"}], [{"Id": 1, "状态": "草稿"}], kind))
    assert not changed.wants(event([{"Id": 1, "状态": "审批中"}], [{"Id": 1, "状态": "审批中"}], kind))
    assert changed.wants(event([{"Id": 1, "状态": "草稿"}]))  # an insert: everything is new
