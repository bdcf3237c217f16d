"""Cost follows change (OPS-3) on a real NocoDB: with a few hundred open items, a run after one
staff edit, insert or delete reads only the rows it touched and costs at most twice an idle run,
a delete retires the message waiting for that row, and a full read afterwards finds nothing
missed."""

from __future__ import annotations

import time

import pytest

from actops.jobs import escalations
from actops.store import Store
from tests.integration.test_escalations import TABLES, at, channels, company, step


@pytest.mark.req("OPS-3", "ESC-2", "REL-1")
def test_one_edit_costs_at_most_twice_an_idle_run(make_store, smtp, wecom):
    store = make_store(TABLES, suffix="changes-")
    company(store)
    store.table("approval_requests").create([
        {"code": "AP-9", "kind": "采购", "title": "舞台", "applicant": "E4", "status": "审批中"}])
    # 300 steps opened Mon 11-02 (due Wed 11-04 09:00) and 200 action items due 11-20: open, not all overdue.
    store.table("approval_steps").create([step(f"AP-9-S{i}", "E4" if i % 2 else "E3", at("2026-11-02T09:00"),
                                                request="AP-9") for i in range(300)])
    store.table("action_items").create([{"code": f"AI-{i}", "title": f"事项{i}", "owner": "E4",
                                         "due_date": "2026-11-20", "status": "进行中"} for i in range(200)])
    ch = channels(smtp, wecom)
    smtp.clear()

    def run(when, params=None):
        time.sleep(2.5)  # let NocoDB's UpdatedAt (whole seconds) settle past the marks
        fresh = Store(store.api, store.prefix, store.specs)  # as the CLI or a flow: meta read again
        before, sent = store.api.total_calls, len(smtp.messages)
        r = escalations.run(fresh, at(when), channels=ch, params=params)
        return r, store.api.total_calls - before, [m["to"][0] for m in smtp.messages[sent:]]

    r, _, sent = run("2026-11-04T10:00")  # every step due: one digest each to E3 and E4
    assert r.plan.stats["read"] == "full" and r.plan.stats["open_items"] == 500
    assert sorted(sent) == ["e3@corp.test", "e4@corp.test"]
    r, _, _ = run("2026-11-04T10:10")  # its own ladder writes read back: only those rows
    assert r.plan.stats["read"] == "changes" and r.plan.stats["rows_read"] == {"approval_steps": 300,
                                                                                "action_items": 200}
    r, idle, _ = run("2026-11-04T10:20")
    assert r.note == "idle"

    items = store.table("action_items")
    items.update([{"Id": items.rows()[7]["Id"], "title": "事项7（改）"}])
    r, renamed, sent = run("2026-11-04T10:30")  # a rename: read, nothing owed
    assert r.plan.stats["read"] == "changes" and r.plan.stats["rows_read"] == {"action_items": 1}
    assert sent == [] and renamed <= 2 * idle, (renamed, idle)

    run("2026-11-04T10:40")  # its own writes (none) or idle
    items.update([{"Id": items.rows()[8]["Id"], "due_date": "2026-11-03"}])  # brought forward: overdue
    r, moved, sent = run("2026-11-04T10:50")
    assert r.plan.stats["rows_read"] == {"action_items": 1} and sent == ["e4@corp.test"]
    assert moved <= 2 * idle, (moved, idle)

    run("2026-11-04T11:00")  # its own ladder write on that row read back
    items.create([{"code": "AI-new", "title": "新事项", "owner": "E3", "due_date": "2026-11-03", "status": "进行中"}])
    r, inserted, sent = run("2026-11-04T11:10")  # an insert, overdue at once
    assert r.plan.stats["read"] == "changes" and r.plan.stats["rows_read"] == {"action_items": 1}
    assert sent == ["e3@corp.test"] and inserted <= 2 * idle, (inserted, idle)

    # At 22:00 (quiet hours) a late item is added: its reminder waits for the morning. The row is
    # deleted before then: the next run sees the row count drop, looks up the rows waiting
    # messages name, and retires that message without reading the table.
    run("2026-11-04T21:50")
    items.create([{"code": "AI-gone", "title": "误建", "owner": "E3", "due_date": "2026-11-03", "status": "进行中"}])
    r, _, sent = run("2026-11-04T22:00")
    outbox = store.table("outbox")
    waiting = [m for m in outbox.rows() if m["status"] == "待发送"]
    assert sent == [] and len(waiting) == 1, waiting
    gone = next(x for x in items.rows() if x["code"] == "AI-gone")
    items.table.delete([gone["Id"]])
    r, deleted, sent = run("2026-11-04T22:10")
    assert r.plan.stats["read"] == "changes" and "action_items" not in r.plan.stats["rows_read"], r.plan.stats
    assert sent == [] and deleted <= 2 * idle + 2, (deleted, idle)  # + the ``Id in`` lookup and the retire
    assert {m["Id"]: m["status"] for m in outbox.rows()}[waiting[0]["Id"]] == "已撤回"

    # A full read now (`actops run escalations --full`) finds nothing left undone.
    r, _, sent = run("2026-11-04T22:20", params={"full": True})
    assert r.plan.stats["read"] == "full" and r.plan.stats["open_items"] == 501
    assert "--full" in r.plan.stats["read_why"]
    assert sent == [] and r.plan.messages == [] and r.plan.row_updates == {}
