"""What the runner writes when one computed value is refused, and who waits for a message."""

from __future__ import annotations

from datetime import datetime

import pytest

from actops.jobs.escalations.job import JOB
from actops.kernel.calendar import TZ
from actops.kernel.org import Org, Person
from actops.kernel.runner import _writable
from actops.nocodb.fake import FakeApi
from actops.schema import load_schema
from actops.schema.sync import apply
from actops.store import Store


@pytest.mark.req("REL-1", "REL-2")
def test_a_refused_value_is_reported_and_the_rest_of_its_row_still_written():
    api = FakeApi()
    apply(api, load_schema(), prefix="t-", only={"reports", "employees"}, log=lambda s: None)
    reports = Store(api, "t-").table("reports")
    rows, refused = _writable(reports, {
        1: {"due_at": datetime(2101, 1, 3, 18, tzinfo=TZ), "notified": "r1:E1"},  # past 2100: refused
        2: {"due_at": datetime(2026, 11, 5, 18, tzinfo=TZ), "notified": "r1:E2"},
    })
    assert rows == [{"Id": 1, "notified": "r1:E1"},  # the ledger is written: nothing is sent twice
                    {"Id": 2, "due_at": datetime(2026, 11, 5, 18, tzinfo=TZ), "notified": "r1:E2"}]
    [issue] = refused
    assert issue.row_id == 1 and "2101" in str(issue.value)


@pytest.mark.req("REL-1", "REL-2")
def test_a_message_to_an_ambiguous_code_waits_and_one_to_a_leaver_is_retired():
    class Inputs:
        org = Org(people={"E1": Person("E1", "在职"), "E9": Person("E9", "离职", active=False)},
                  dept_heads={}, ambiguous=frozenset({"E3"}))

    gone, hold = JOB.undeliverable(Inputs), JOB.hold(Inputs)
    assert gone({"recipient": "E1"}) is None and hold({"recipient": "E1"}) is None
    assert gone({"recipient": "E3"}) is None and "多行" in hold({"recipient": "E3"})  # waits, kept
    assert "离职" in gone({"recipient": "E9"}) and "离职" in gone({"recipient": "E404"})
