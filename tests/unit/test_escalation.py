"""The escalation ladder, notice planning and digests, around National Day 2026."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, time

import pytest

from actops.jobs.escalations.deadlines import due_for
from actops.jobs.escalations.digests import build_digests
from actops.jobs.escalations.items import ItemKind, Notice, OpenItem
from actops.jobs.escalations.ladder import ItemUpdate, next_escalation_at, plan_notices, rung_at
from actops.kernel.calendar import TZ, WorkCalendar, prc_calendar_rows
from actops.kernel.org import Org, Person
from actops.kernel.settings import Settings as Policy


def at(y, m, d, hh=0, mm=0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=TZ)


@pytest.fixture(scope="module")
def cal() -> WorkCalendar:
    return WorkCalendar.from_rows(prc_calendar_rows([2026]))[0]


def person(code, name, manager=None, dept="D1", **kw) -> Person:
    kw.setdefault("email", f"{code.lower()}@example.com")
    return Person(code=code, name=name, manager=manager, department=dept, **kw)


@pytest.fixture
def org() -> Org:
    people = [
        person("E1", "张三", manager="M1"),
        person("E2", "李四", manager="M1"),
        person("M1", "王主管", manager="H1"),
        person("H1", "赵部长", manager="GM"),
        person("GM", "钱总", dept="D0"),
    ]
    return Org({p.code: p for p in people}, {"D1": "H1", "D0": "GM"}, "GM")


POLICY = Policy()
OPENED = at(2026, 9, 30, 15)


def approval(cal, row_id=7, assignee="E1", **kw) -> OpenItem:
    return OpenItem(
        kind=ItemKind.APPROVAL,
        table="approval_steps",
        row_id=row_id,
        code=f"APR-{row_id:03d}",
        title="采购审批",
        assignee=assignee,
        due_at=kw.pop("due_at", due_for(ItemKind.APPROVAL, OPENED, cal, POLICY)),
        **kw,
    )


@pytest.mark.req("ESC-1", "ESC-2", "ESC-3")
@pytest.mark.parametrize(
    ("now", "rung"),
    [
        (at(2026, 9, 30, 16), 0),
        (at(2026, 10, 3, 10), 0),  # holiday week
        (at(2026, 10, 9, 14, 59), 0),
        (at(2026, 10, 9, 15), 1),  # due: 2nd workday after Sep 30
        (at(2026, 10, 10, 14, 59), 1),
        (at(2026, 10, 10, 15), 2),  # make-up Saturday is a workday
        (at(2026, 10, 11, 20), 2),  # Sunday Oct 11 is not
        (at(2026, 10, 12, 14, 59), 2),
        (at(2026, 10, 12, 15), 3),
        (at(2026, 10, 20, 9), 3),
    ],
)
def test_national_day_ladder(cal, now, rung):
    item = approval(cal)
    assert item.due_at == at(2026, 10, 9, 15)
    assert rung_at(item, now, cal, POLICY) == rung


@pytest.mark.req("ESC-2")
def test_next_escalation_at_each_rung(cal):
    item = approval(cal)
    assert [next_escalation_at(item, r, cal, POLICY) for r in range(4)] == [
        at(2026, 10, 9, 15),
        at(2026, 10, 10, 15),
        at(2026, 10, 12, 15),
        None,
    ]
    assert next_escalation_at(replace(item, due_at=None), 0, cal, POLICY) is None


@pytest.mark.req("ESC-2")
def test_escalate_after_days_setting_is_used(cal):
    item = approval(cal)
    slow = Policy(escalate_after_days=2)
    assert rung_at(item, at(2026, 10, 10, 15), cal, slow) == 1
    assert rung_at(item, at(2026, 10, 12, 15), cal, slow) == 2  # Oct 10 + Oct 12
    assert rung_at(item, at(2026, 10, 14, 15), cal, slow) == 3


@pytest.mark.req("ESC-2", "ORG-2")
def test_plan_at_top_rung_keeps_lower_rungs_and_keys_are_stable(cal, org):
    item = approval(cal)
    now = at(2026, 10, 12, 16)
    notices, issues, updates = plan_notices([item], now, cal, org, POLICY)
    assert issues == []
    assert [(n.rung, n.recipient, n.role) for n in notices] == [
        (1, "E1", "assignee"),
        (2, "M1", "manager"),
        (3, "GM", "general_manager"),
    ]
    assert [n.dedupe_key for n in notices] == [
        "approval_steps:7:r1:E1",
        "approval_steps:7:r2:M1",
        "approval_steps:7:r3:GM",
    ]
    assert notices[1].assignee_name == "张三"
    assert updates == [ItemUpdate("approval_steps", 7, 3, None)]
    # a later run (or a re-run) plans the same keys, so the outbox makes them no-ops
    again, _, _ = plan_notices([item], at(2026, 10, 13, 9), cal, org, POLICY)
    assert [n.dedupe_key for n in again] == [n.dedupe_key for n in notices]


@pytest.mark.req("ESC-2")
def test_updates_only_when_ladder_fields_change(cal, org):
    now = at(2026, 10, 10, 16)
    fresh = approval(cal)
    _, _, updates = plan_notices([fresh], now, cal, org, POLICY)
    assert updates == [ItemUpdate("approval_steps", 7, 2, at(2026, 10, 12, 15))]
    current = replace(fresh, escalation_level=2, next_escalation_at=at(2026, 10, 12, 15))
    notices, _, updates = plan_notices([current], now, cal, org, POLICY)
    assert updates == []
    assert [n.rung for n in notices] == [1, 2]
    not_due = plan_notices([fresh], at(2026, 10, 1, 9), cal, org, POLICY)
    assert not_due[0] == [] and not_due[2] == [
        ItemUpdate("approval_steps", 7, 0, at(2026, 10, 9, 15))
    ]


@pytest.mark.req("ORG-2")
def test_chain_skips_inactive_and_self_and_survives_loops():
    people = {
        "A": person("A", "甲", manager="B"),
        "B": person("B", "乙", manager="C", active=False),
        "C": person("C", "丙", manager="A", active=False),
        "H": person("H", "部长", manager="A"),
        "G": person("G", "总", manager="G", dept="D0"),
    }
    org = Org(people, {"D1": "H"}, "G")
    assert org.chain("A") == ["H", "G"]  # B, C inactive; C points back to A
    assert org.chain("H") == ["A", "G"]  # H heads D1 itself: skipped
    assert org.chain("G") == []  # own manager, department without head: nobody above
    loop = Org({"X": person("X", "X", manager="Y"), "Y": person("Y", "Y", manager="X")}, {}, None)
    assert loop.chain("X") == ["Y"]
    assert Org({}, {}, None).chain("nobody") == []
    # an inactive manager is replaced by their active manager
    up = Org(
        {
            "A": person("A", "甲", manager="B"),
            "B": person("B", "乙", manager="C", active=False),
            "C": person("C", "丙"),
        },
        {},
        None,
    )
    assert up.chain("A") == ["C"]


@pytest.mark.req("ESC-2", "ORG-2")
def test_bad_items_become_issues_and_others_are_still_planned(cal, org):
    people = dict(org.people)
    people["E3"] = person("E3", "孙五", manager="M1", email=None, wecom_id=None)
    people["E4"] = person("E4", "周六", manager="M1", active=False)
    org = Org(people, org.dept_heads, org.general_manager)
    now = at(2026, 10, 9, 16)
    items = [
        approval(cal, 1, assignee=None),
        approval(cal, 2, assignee="E3"),
        approval(cal, 3, assignee="E4"),
        approval(cal, 4, assignee="NOPE"),
        approval(cal, 5, due_at=None),
        approval(cal, 6, assignee="E2"),
    ]
    notices, issues, updates = plan_notices(items, now, cal, org, POLICY)
    assert [(i.row_id, i.field, i.value) for i in issues] == [
        (1, "assignee", None),
        (2, "assignee", "E3"),
        (3, "assignee", "E4"),
        (4, "assignee", "NOPE"),
        (5, "due_at", None),
    ]
    assert "没有负责人" in issues[0].reason
    assert "没有邮箱也没有企业微信号" in issues[1].reason
    assert "已不在职" in issues[2].reason
    assert "NOPE" in issues[3].reason and "不在员工表" in issues[3].reason
    assert "没有截止时间" in issues[4].reason
    assert [(n.item.row_id, n.recipient) for n in notices] == [(6, "E2")]
    assert [u.row_id for u in updates] == [6]


@pytest.mark.req("ESC-2")
def test_manager_without_address_skips_only_that_notice(cal, org):
    people = dict(org.people)
    people["M1"] = replace(people["M1"], email=None, wecom_id="")
    org = Org(people, org.dept_heads, org.general_manager)
    notices, issues, updates = plan_notices([approval(cal)], at(2026, 10, 12, 16), cal, org, POLICY)
    assert [(n.rung, n.recipient) for n in notices] == [(1, "E1"), (3, "GM")]
    assert len(issues) == 1 and "王主管" in issues[0].reason and issues[0].row_id == 7
    # Rung 2 never reached anyone: the row stays at level 1 so the next run tries it again.
    assert updates[0].escalation_level == 1


@pytest.mark.req("ESC-2")
def test_a_rung_blocked_by_missing_address_goes_out_once_the_address_is_added(cal, org):
    people = dict(org.people)
    people["M1"] = replace(people["M1"], email=None, wecom_id="")
    blocked = Org(people, org.dept_heads, org.general_manager)
    now = at(2026, 10, 10, 16)  # rung 2
    _, _, [u] = plan_notices([approval(cal)], now, cal, blocked, POLICY)
    item = replace(approval(cal), escalation_level=u.escalation_level, next_escalation_at=u.next_escalation_at)
    notices, issues, updates = plan_notices([item], now, cal, org, POLICY)
    assert issues == [] and (2, "M1") in [(n.rung, n.recipient) for n in notices]
    assert updates[0].escalation_level == 2


def test_a_deadline_ending_on_a_holiday_is_reminded_on_the_next_workday(cal, org):
    item = replace(approval(cal), kind=ItemKind.ACTION, table="action_items",
                   due_at=at(2026, 10, 1, 0))  # action item due 09-30, i.e. by 23:59
    assert rung_at(item, at(2026, 10, 1, 8, 5), cal, POLICY) == 0  # National Day: no message
    assert rung_at(item, at(2026, 10, 9, 8, 5), cal, POLICY) >= 1


@pytest.mark.req("ESC-2", "ESC-3")
def test_an_escalation_that_would_fall_on_a_weekend_waits_for_the_next_workday(cal):
    item = replace(approval(cal), kind=ItemKind.ACTION, table="action_items",
                   due_at=at(2026, 11, 6, 0))  # due Thu 11-05, i.e. by 23:59
    # a whole workday after it ends at midnight Friday→Saturday: the manager hears on Monday
    assert rung_at(item, at(2026, 11, 6, 10), cal, POLICY) == 1
    assert rung_at(item, at(2026, 11, 7, 10), cal, POLICY) == 1  # Saturday: no message
    assert next_escalation_at(item, 1, cal, POLICY) == at(2026, 11, 9, 0)
    assert next_escalation_at(item, 2, cal, POLICY) == at(2026, 11, 10, 0)


@pytest.mark.req("ESC-2")
def test_general_managers_own_item_has_nobody_above(cal, org):
    notices, issues, _ = plan_notices(
        [approval(cal, assignee="GM")], at(2026, 10, 12, 16), cal, org, POLICY
    )
    assert issues == []
    assert [(n.rung, n.recipient) for n in notices] == [(1, "GM")]


@pytest.mark.req("ESC-5")
def test_one_digest_per_person_with_many_items(cal, org):
    due = at(2026, 10, 9, 15)
    items = [
        approval(cal, 1),
        replace(approval(cal, 2), kind=ItemKind.ACTION, table="action_items", code="ACT-2"),
        replace(approval(cal, 3), kind=ItemKind.REPORT, table="reports", code="RPT-3"),
        approval(cal, 4, assignee="E2", due_at=at(2026, 9, 29, 9)),
    ]
    assert items[1].due_at == due
    now = at(2026, 10, 10, 16)  # E1's items at rung 2, E2's (older) at rung 3
    notices, issues, _ = plan_notices(items, now, cal, org, POLICY)
    assert issues == []
    digests = build_digests(notices, org, now, POLICY)
    assert [d.recipient.code for d in digests] == ["E1", "E2", "GM", "M1"]
    e1 = digests[0]
    assert [n.item.kind for n in e1.notices] == [
        ItemKind.APPROVAL,
        ItemKind.REPORT,
        ItemKind.ACTION,
    ]
    assert [k for k, _ in e1.groups()] == [ItemKind.APPROVAL, ItemKind.REPORT, ItemKind.ACTION]
    m1 = digests[3]
    assert len(m1.notices) == 4 and {n.rung for n in m1.notices} == {2}
    assert m1.dedupe_keys == tuple(sorted(n.dedupe_key for n in m1.notices))
    assert all(d.send_after is None and not d.urgent for d in digests)
    # The outbox key of a digest is stable: the same notices give the same message key.
    from actops.jobs.escalations.messages import messages

    again = build_digests(notices, org, now, POLICY)
    assert [m.key for m in messages(digests, now)] == [m.key for m in messages(again, now)]


@pytest.mark.req("ESC-5")
def test_same_item_twice_for_one_recipient_is_shown_once(cal):
    people = {
        "E1": person("E1", "张三", manager="GM"),
        "GM": person("GM", "钱总"),
    }
    org = Org(people, {}, "GM")
    notices, _, _ = plan_notices([approval(cal)], at(2026, 10, 12, 16), cal, org, POLICY)
    assert [(n.rung, n.recipient) for n in notices] == [(1, "E1"), (2, "GM"), (3, "GM")]
    gm = [
        d
        for d in build_digests(notices, org, at(2026, 10, 12, 16), POLICY)
        if d.recipient.code == "GM"
    ]
    assert len(gm) == 1 and [n.rung for n in gm[0].notices] == [3]
    assert gm[0].dedupe_keys == ("approval_steps:7:r2:GM", "approval_steps:7:r3:GM")


def _notice(org, code, urgent, row_id=1) -> Notice:
    item = OpenItem(
        ItemKind.ACTION,
        "action_items",
        row_id,
        f"A{row_id}",
        "t",
        code,
        at(2026, 10, 9, 15),
        urgent=urgent,
    )
    return Notice(item, 1, code, "assignee", f"action_items:{row_id}:r1:{code}")


@pytest.mark.req("ESC-5")
@pytest.mark.parametrize(
    ("now", "send_after"),
    [
        (at(2026, 10, 12, 22, 30), at(2026, 10, 13, 8)),  # evening: wait past midnight
        (at(2026, 10, 13, 0, 0), at(2026, 10, 13, 8)),
        (at(2026, 10, 13, 7, 59), at(2026, 10, 13, 8)),
        (at(2026, 10, 12, 21, 0), at(2026, 10, 13, 8)),  # start of window is quiet
        (at(2026, 10, 13, 8, 0), None),  # end of window is not
        (at(2026, 10, 13, 12, 0), None),
    ],
)
def test_quiet_hours_postpone_non_urgent_only(org, now, send_after):
    notices = [_notice(org, "E1", False), _notice(org, "E2", True, 2)]
    calm, urgent = build_digests(notices, org, now, POLICY)
    assert calm.send_after == send_after and not calm.urgent
    assert urgent.send_after is None and urgent.urgent


@pytest.mark.req("ESC-5")
def test_quiet_window_that_does_not_wrap(org):
    policy = Policy(quiet_start=time(12, 0), quiet_end=time(13, 30))
    [d] = build_digests([_notice(org, "E1", False)], org, at(2026, 10, 13, 12, 15), policy)
    assert d.send_after == at(2026, 10, 13, 13, 30)
    [d] = build_digests([_notice(org, "E1", False)], org, at(2026, 10, 13, 22), policy)
    assert d.send_after is None


@pytest.mark.req("ESC-5")
def test_settings_parse_and_bad_values_warn():
    def rows(values):
        return [{"Id": i, "key": k, "value": v} for i, (k, v) in enumerate(values.items(), 1)]

    policy, warnings = Policy.from_rows(rows(
        {
            "approval_sla_days": "3",
            "escalate_after_days": " 2 ",
            "quiet_hours": "22:00–07:30",
            "minutes_hours": "48.0",
            "tier1_amount": "10000",
        }
    ))
    assert warnings == []
    assert (policy.approval_sla_days, policy.escalate_after_days, policy.minutes_hours) == (
        3,
        2,
        48,
    )
    assert (policy.quiet_start, policy.quiet_end) == (time(22, 0), time(7, 30))
    assert policy.posthoc_days == 3  # missing key keeps the default

    policy, warnings = Policy.from_rows(rows(
        {
            "posthoc_days": "三天",
            "quiet_hours": "晚上",
            "monthly_report_day": "31",
            "escalate_after_days": "-1",
        }
    ))
    assert (policy.posthoc_days, policy.monthly_report_day, policy.escalate_after_days) == (3, 5, 1)
    assert (policy.quiet_start, policy.quiet_end) == (time(21, 0), time(8, 0))
    assert len(warnings) == 4
    text = "\n".join(str(w) for w in warnings)
    for fragment in (
        "posthoc_days",
        "三天",
        "quiet_hours",
        "晚上",
        "21:00-08:00",
        "monthly_report_day",
        "31",
        "escalate_after_days",
        "-1",
        "默认值",
    ):
        assert fragment in text


@pytest.mark.req("ESC-1", "ESC-4", "APR-4", "ACT-3", "RPT-1", "RPT-2", "RPT-3")
def test_due_for_each_kind(cal):
    assert due_for(ItemKind.MINUTES, at(2026, 9, 30, 17), cal, POLICY) == at(2026, 10, 1, 17)
    assert due_for(ItemKind.POSTHOC, at(2026, 9, 30, 10), cal, POLICY) == at(2026, 10, 10, 10)
    assert due_for(ItemKind.GATE, date(2026, 10, 19), cal, POLICY, gate_kind="启动会") == at(
        2026, 10, 12
    )
    # end Sep 30: 10 full workdays from Oct 8 (incl. make-up Oct 10) end on Oct 20
    assert due_for(ItemKind.GATE, date(2026, 9, 30), cal, POLICY, gate_kind="结项验收") == at(
        2026, 10, 21
    )
    with pytest.raises(ValueError):
        due_for(ItemKind.GATE, date(2026, 9, 30), cal, POLICY, gate_kind="中期评审")
    def report(k, d):
        return due_for(ItemKind.REPORT, d, cal, POLICY, report_kind=k)
    assert report("日报", date(2026, 10, 9)) == at(2026, 10, 10, 18)  # make-up Saturday
    assert report("daily", date(2026, 9, 30)) == at(2026, 10, 8, 18)  # rolled past the holiday
    assert report("周报", date(2026, 10, 12)) == at(2026, 10, 19, 18)
    assert report("weekly", date(2026, 9, 28)) == at(2026, 10, 8, 18)  # Monday Oct 5 is a holiday
    assert report("月报", date(2026, 10, 1)) == at(2026, 11, 5, 18)
    assert due_for(
        ItemKind.REPORT,
        date(2026, 10, 1),
        cal,
        Policy(monthly_report_day=10),
        report_kind="monthly",
    ) == at(2026, 11, 10, 18)
    assert due_for(ItemKind.ACTION, date(2026, 10, 9), cal, POLICY) == at(2026, 10, 10)
    assert due_for(ItemKind.PROBLEM, at(2026, 10, 9, 12), cal, POLICY) == at(2026, 10, 9, 12)
