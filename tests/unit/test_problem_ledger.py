"""The problem ledger (问题台账) on the escalation ladder (PLN-2): an overdue problem reminds its
owner, then climbs to their manager; a problem without a deadline is not chased
(solved ones are not read: the source reads 待处理 and 处理中 only)."""

from __future__ import annotations

from datetime import datetime

import pytest

from actops.kernel.calendar import TZ
from tests.unit.test_escalation_job import inputs, owed, rec, run_plan


def problem(**kw):
    base = {"Id": 5, "code": "PRB-1", "description": "展台搭建图纸与场地尺寸不符，需重新出图", "owner": "E3",
            "status": "处理中", "due_date": "2026-10-12"}
    return rec("problems", **{**base, **kw})


@pytest.mark.req("PLN-2", "ESC-2")
def test_an_overdue_problem_reminds_its_owner_then_climbs_to_their_manager():
    assert owed(run_plan(inputs(datetime(2026, 10, 12, 10, tzinfo=TZ), problems=[problem()]))) == []  # due today
    first = run_plan(inputs(datetime(2026, 10, 13, 10, tzinfo=TZ), problems=[problem()]))
    assert owed(first) == [("E3", 1)]
    [m] = [m for m in first.messages if m.channel == "邮件"]
    assert "展台搭建图纸与场地尺寸不符" in m.html and m.recipient == "E3"
    later = run_plan(inputs(datetime(2026, 10, 22, 10, tzinfo=TZ), problems=[problem()]))
    assert ("E2", 2) in owed(later)  # the owner's manager hears of it


@pytest.mark.req("PLN-2")
def test_a_problem_without_a_deadline_is_not_chased():
    now = datetime(2026, 10, 22, 10, tzinfo=TZ)
    assert run_plan(inputs(now, problems=[problem(due_date=None)])).messages == []
