"""审计发现 from the checked sample: which rows make one, its code, severity, owner and due date."""

from __future__ import annotations

from datetime import date

import pytest

from actops.jobs.audit import findings
from actops.jobs.audit.verdict import Row

DUE = date(2026, 10, 26)


def row(code: str, kind: str = "审批", **kw) -> Row:
    base = {"item": code.split("-", 3)[-1], "department": "D02", "reason": "随机抽样", "checked": True,
            "deviation": True, "finding": "审批链缺财务环节"}
    return Row(code, kind, **(base | kw))


@pytest.mark.req("AUD-5")
def test_a_checked_described_deviation_makes_one_finding_with_a_code_from_its_sample():
    rows = [row("2026-Q3-A-AP-001", severity="高"),
            row("2026-Q3-A-AP-002", deviation=False, finding=""),  # no deviation
            row("2026-Q3-A-AP-003", checked=False),  # not checked yet
            row("2026-Q3-A-AP-004", finding=" "),  # not described
            row("2026-Q3-R-2026-Q2-F01", kind="整改复查")]  # a re-check makes none
    made, unowned = findings.make("2026-Q3", rows, {r.code: "E04" for r in rows}, DUE)
    assert unowned == []
    (f,) = made
    assert f.code == "2026-Q3-F-A-AP-001" and f.sample == "2026-Q3-A-AP-001"
    assert f.row() == {"code": "2026-Q3-F-A-AP-001", "cycle": "2026-Q3", "sample": "2026-Q3-A-AP-001",
                       "severity": "高", "description": "审批链缺财务环节", "owner": "E04", "due_date": DUE,
                       "status": "待整改", "fraud": False}
    again, _ = findings.make("2026-Q3", rows, {r.code: "E04" for r in rows}, DUE)
    assert [g.code for g in again] == [f.code]  # the same row, the same code: made once


@pytest.mark.req("AUD-5", "EVA-6")
def test_severity_defaults_to_medium_and_data_fraud_is_recorded_as_severe_with_the_flag():
    assert findings.severity(None) == ("中", False)
    assert findings.severity("低") == ("低", False)
    assert findings.severity("数据造假") == ("严重", True)
    made, _ = findings.make("2026-Q3", [row("2026-Q3-V-ACT-01", kind="活动", severity="数据造假",
                                            finding="效果数据与原始记录不符")], {"2026-Q3-V-ACT-01": "E04"}, DUE)
    assert (made[0].severity, made[0].fraud) == ("严重", True)


@pytest.mark.req("AUD-5")
def test_a_row_nobody_owns_makes_no_finding_and_is_returned():
    made, unowned = findings.make("2026-Q3", [row("2026-Q3-E-EXP-1", kind="费用")], {}, DUE)
    assert made == [] and [r.code for r in unowned] == ["2026-Q3-E-EXP-1"]


@pytest.mark.req("AUD-5")
def test_a_passed_recheck_closes_the_earlier_finding_a_failed_one_keeps_it_open():
    rows = [row("2026-Q3-R-2026-Q2-F01", kind="整改复查", item="2026-Q2-F01", deviation=False, finding=""),
            row("2026-Q3-R-2026-Q2-F02", kind="整改复查", item="2026-Q2-F02", finding="仍未整改"),
            row("2026-Q3-R-2026-Q2-F03", kind="整改复查", item="2026-Q2-F03", checked=False, deviation=False)]
    assert findings.rechecked(rows) == ["2026-Q2-F01"]
