"""The outbox's row shape: what fits in NocoDB and what a dead run's rows tell the next."""

from __future__ import annotations

from datetime import datetime

import pytest

from actops.jobs.escalations.digests import Digest
from actops.jobs.escalations.items import ItemKind, Notice, OpenItem, dedupe_key
from actops.jobs.escalations.messages import messages
from actops.kernel.calendar import TZ
from actops.kernel.org import Person
from actops.messaging.outbox import item_refs, pack_items, unpack_items

NOW = datetime(2026, 11, 17, 10, tzinfo=TZ)
NOCODB_LONGTEXT = 100_000  # characters NocoDB accepts in one long text


@pytest.mark.req("REL-1")
def test_packed_items_unpack_to_the_same_keys_and_refs():
    keys = ["approval_steps:12:r2:E0001", "approval_steps:15:r2:E0001", "action_items:7:r1:E0001", "reports:9"]
    text = pack_items(keys)
    assert sorted(unpack_items(text)) == sorted(keys)
    assert sorted(item_refs(text)) == [("action_items", 7), ("approval_steps", 12), ("approval_steps", 15),
                                       ("reports", 9)]
    assert text.splitlines()[0] == "approval_steps:r2:E0001|12 15"


@pytest.mark.req("ESC-5", "REL-1")
def test_a_digest_of_thousands_of_items_fits_one_outbox_row():
    boss = Person(code="E0001", name="部门负责人", email="boss@corp.test")
    notices = []
    for i in range(6000):
        item = OpenItem(kind=ItemKind.APPROVAL, table="approval_steps", row_id=100000 + i, code=f"S{i:06d}",
                        title=f"采购申请 第{i}项 · 第1步 主管", assignee=f"E{i % 190:04d}", due_at=NOW)
        notices.append(Notice(item, 2, "E0001", "manager", dedupe_key(item, 2, "E0001"), "员工"))
    digest = Digest(recipient=boss, notices=tuple(notices), urgent=False,
                    dedupe_keys=tuple(sorted(n.dedupe_key for n in notices)))
    [m] = messages([digest], NOW)
    row = m.row("run-1")
    assert all(len(row[f] or "") < NOCODB_LONGTEXT for f in ("body", "html", "items"))
    # The mail lists the 20 most urgent (same rung and due: by code) and counts the rest.
    assert "另有 5980 项未在此列出" in m.html and m.html.count("<tr>") == 20
    assert "S000000" in m.html and "S000019" in m.html and "S000020" not in m.html
    assert "审批 6000 项" in m.html
    assert len(unpack_items(row["items"])) == 6000  # every item is still covered
