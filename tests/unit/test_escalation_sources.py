"""Self-evaluations (考评表, HR base) and audit findings on the escalation ladder: how a row
becomes an item (due time, title, link), pure; then through the job's plan to the digests."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from actops.jobs.escalations.items import ItemKind
from actops.jobs.escalations.sources import BY_TABLE, Context, open_filter, open_item
from actops.jobs.evaluations.cycle import self_eval_due
from actops.kernel.calendar import TZ
from actops.kernel.links import PURPOSE_SELF_EVAL, DecisionLinks, LinkSigner, RowLinks
from actops.kernel.org import build_org
from actops.kernel.settings import Settings
from tests.unit.test_escalation_job import CAL, inputs, rec, run_plan

SECRET = b"escalation-sources-unit-test-secret-0123"
SIGNER = LinkSigner(SECRET)
ISSUED = datetime(2026, 11, 1, 9, tzinfo=TZ)
SELF_LINKS = DecisionLinks(SIGNER, "https://actops.example.cn", ISSUED, PURPOSE_SELF_EVAL, "self")
LINKS = RowLinks("https://nocodb.example.cn", {"evaluations": ("w1", "hrbase", "tEval"),
                                               "audit_findings": ("w1", "opsbase", "tFind")})
SELF, FINDING = BY_TABLE["evaluations"], BY_TABLE["audit_findings"]


def cycle(**kw):
    values = {"Id": 1, "code": "2026-10-自评", "kind": "月度自评", "period": "2026-10", "status": "已开启"}
    return rec("eval_cycles", **{**values, **kw})


def self_row(**kw):
    values = {"Id": 11, "code": "2026-10-自评-E3", "cycle": "2026-10-自评", "employee": "E3",
              "employee_name": "员工", "department": "D01", "supervisor": "E2"}
    return rec("evaluations", **{**values, **kw})


def finding(**kw):
    values = {"Id": 5, "code": "2026-Q3-F-A-AP-1", "cycle": "2026-Q3", "severity": "高",
              "description": "审批链缺少 CEO 环节，\n未补签", "owner": "E3", "due_date": "2026-10-26",
              "status": "待整改"}
    return rec("audit_findings", **{**values, **kw})


def context(settings=None, cycles=None, self_links=SELF_LINKS, links=LINKS, org=None):
    c = cycles if cycles is not None else [cycle()]
    return Context(settings or Settings(), CAL, {}, {}, links, cycles={x.code: x for x in c},
                   self_links=self_links, org=org)


@pytest.mark.req("EVA-1", "EVA-2", "ESC-4")
def test_a_missing_self_evaluation_is_due_at_the_end_of_self_eval_day_of_the_next_month():
    item, write_back = open_item(SELF, self_row(), context())
    assert item.kind is ItemKind.SELF_EVAL and item.assignee == "E3" and write_back is None
    assert item.due_at == datetime(2026, 11, 6, 0, 0, tzinfo=TZ)  # end of Thu 2026-11-05
    later, _ = open_item(SELF, self_row(), context(Settings(self_eval_day=12)))
    assert later.due_at == datetime(2026, 11, 13, tzinfo=TZ)
    # HR's 截止日期 on the cycle wins: the day the invitation states
    typed, _ = open_item(SELF, self_row(), context(cycles=[cycle(due_date="2026-11-09")]))
    assert typed.due_at == datetime(2026, 11, 10, tzinfo=TZ)
    assert self_eval_due(cycle(due_date="2026-11-09"), 5) == date(2026, 11, 9)
    assert self_eval_due(cycle(period="2026-12"), 5) == date(2027, 1, 5)


@pytest.mark.req("EVA-1", "ESC-4")
def test_only_open_monthly_cycles_are_chased_and_not_for_people_who_left():
    assert open_item(SELF, self_row(cycle="2026-Q3-考评"), context())[0] is None  # not an open 月度自评
    assert open_filter(SELF, {}) is None  # no open cycle: the 考评表 is not even read
    assert "2026-10-自评" in str(open_filter(SELF, {"2026-10-自评": cycle()}))
    gone = build_org([rec("employees", Id=3, code="E3", name="员工", department="D01", email="e3@x.cn",
                          active=False)], [], None)
    assert open_item(SELF, self_row(), context(org=gone))[0] is None
    # a monthly cycle whose day cannot be found (the evaluations job notes its 期间) is not chased
    with pytest.raises(ValueError):
        self_eval_due(cycle(period="2026-Q4"), 5)
    assert open_item(SELF, self_row(), context(cycles=[cycle(period="2026-Q4")]))[0] is None


@pytest.mark.req("EVA-7")
def test_the_title_names_the_cycle_and_never_a_score():
    scored = self_row(self_score=93.5, supervisor_score=71.25, kpi_score=88.0, composite=80.5, grade="A",
                      flags="连续逾期提交报告 3 次", self_results="完成 12 场活动")
    item, _ = open_item(SELF, scored, context())
    assert item.title == "2026-10 月度自评 未提交"
    for secret in ("93.5", "71.25", "88", "80.5", "A", "逾期", "12 场"):
        assert secret not in item.title


@pytest.mark.req("EVA-7", "STF-5")
def test_the_owner_gets_their_own_self_link_and_nobody_else_does():
    item, _ = open_item(SELF, self_row(), context())
    own = item.link_for("E3")
    assert own.startswith("https://actops.example.cn/self/")
    claims = SIGNER.verify(own.rsplit("/", 1)[1], PURPOSE_SELF_EVAL, ISSUED)
    assert (claims.code, claims.ref) == ("E3", "2026-10-自评")
    # the supervisor and the general manager: the 考评表 grid in the HR base, never the form
    for other in ("E2", "E1", None):
        assert item.link_for(other) == "https://nocodb.example.cn/dashboard/#/w1/hrbase/tEval"
    assert "rowId" not in (own + item.link_for("E2"))  # never the HR-base row
    # without a link secret: no link for the owner (never a NocoDB row they cannot open)
    bare, _ = open_item(SELF, self_row(), context(self_links=None, links=LINKS))
    assert bare.link_for("E3") is None and "rowId" not in (bare.link_for("E2") or "")


@pytest.mark.req("AUD-5", "ESC-4")
def test_an_open_audit_finding_is_due_at_the_end_of_its_due_date_and_links_to_its_row():
    item, write_back = open_item(FINDING, finding(), context())
    assert item.kind is ItemKind.FINDING and item.assignee == "E3" and write_back is None
    assert item.due_at == datetime(2026, 10, 27, tzinfo=TZ)  # end of Mon 2026-10-26
    assert item.title == "高：审批链缺少 CEO 环节， 未补签"
    assert item.link == item.link_for("E2") == "https://nocodb.example.cn/dashboard/#/w1/opsbase/tFind?rowId=5"
    assert open_item(FINDING, finding(due_date=None), context())[0] is None  # no 整改期限: nothing overdue
    assert "待整改" in str(FINDING.where) and "整改中" in str(FINDING.where)


def self_inputs(now, rows, **kw):
    inp = inputs(now, evaluations=rows, **kw)
    inp.cycles = {"2026-10-自评": cycle()}
    inp.self_links, inp.links = SELF_LINKS, LINKS
    return inp


def digest(p, who, channel="邮件"):
    [m] = [m for m in p.messages if m.recipient == who and m.channel == channel]
    return m


@pytest.mark.req("EVA-1", "EVA-2", "EVA-7", "ESC-2", "ESC-4", "ESC-5")
def test_self_evaluations_ride_the_ladder_and_the_manager_never_gets_the_form():
    row = self_row(self_score=93.5)
    p = run_plan(self_inputs(datetime(2026, 11, 5, 16, tzinfo=TZ), [row]))
    assert p.messages == []  # due at the end of 11-05
    p = run_plan(self_inputs(datetime(2026, 11, 6, 10, tzinfo=TZ), [row]))
    mail = digest(p, "E3")
    assert "2026-10 月度自评 未提交" in mail.html and "https://actops.example.cn/self/" in mail.html
    assert p.row_updates["evaluations"][11] == {"escalation_level": 1, "notified": "r1:E3",
                                                 "next_escalation_at": datetime(2026, 11, 9, tzinfo=TZ)}
    # Mon 11-09: rung 2, the supervisor — in the same digest as their other items
    late = self_row(self_score=93.5, escalation_level=1, notified="r1:E3")
    action = rec("action_items", Id=3, code="AI-1", title="提交物料清单", owner="E2", due_date="2026-11-06",
                 status="进行中")
    p = run_plan(self_inputs(datetime(2026, 11, 9, 10, tzinfo=TZ), [late], action_items=[action]))
    boss = [m for m in p.messages if m.recipient == "E2"]
    assert len(boss) == 1 and set(boss[0].items) == {"evaluations:11:r2:E2", "action_items:3:r1:E2"}
    for text in (boss[0].html, boss[0].body):
        assert "2026-10-自评-E3" in text and "/self/" not in text and "93.5" not in text
    assert "https://nocodb.example.cn/dashboard/#/w1/hrbase/tEval" in boss[0].html


@pytest.mark.req("AUD-5", "ESC-4", "ESC-5")
def test_audit_findings_ride_the_ladder_in_the_owners_digest():
    f = finding(due_date="2026-11-04")
    p = run_plan(inputs(datetime(2026, 11, 5, 10, tzinfo=TZ), audit_findings=[f]))
    mail = digest(p, "E3")
    assert "审计整改" in mail.html and "2026-Q3-F-A-AP-1" in mail.html
    assert p.row_updates["audit_findings"][5]["notified"] == "r1:E3"
    p = run_plan(inputs(datetime(2026, 11, 6, 10, tzinfo=TZ),
                        audit_findings=[finding(due_date="2026-11-04", escalation_level=1, notified="r1:E3")]))
    assert [m.items for m in p.messages if m.channel == "邮件"] == [("audit_findings:5:r2:E2",)]
