"""A drawn cycle through to its report on the in-memory NocoDB: findings as rows are checked,
the verdict once every row is done (hand-worked figures below), the zh-CN report archived on
the cycle and sent to the managers concerned with nothing personal unmasked, once; a finding
carried into the next quarter; a data-fraud finding that the evaluations job flags."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from actops.jobs.audit import closing
from actops.jobs.evaluations.streaks import evaluator_flags
from actops.messaging.masking import leaks
from tests.unit import test_audit_job as base

store = base.store
rows, run, CLOCK = base.rows, base.run, base.CLOCK
CUSTOMER, PHONE = "华东实业", "13812345678"


def sample_rows(store):
    return rows(store, "audit_samples")


def check(store, done=lambda r: True, **special):
    """Tick 已检查 on the rows ``done`` selects, untick every pre-checked deviation, then apply
    ``special`` (sample code → values)."""
    updates = []
    for code, r in sample_rows(store).items():
        values = {"Id": r["Id"], "checked": bool(done(r)), "deviation": False}
        updates.append(values | special.get(code, {}))
    store.table("audit_samples").update(updates)


def picks(store):
    """The rows the test marks: AP-BIG (always), a drawn approval and a drawn expense below
    the sampling interval (133,825 / 60 = 2,230.42)."""
    s = sample_rows(store)
    approval = next(c for c, r in sorted(s.items()) if r["reason"] == "随机抽样" and r["item_kind"] == "审批"
                    and r["department"] == "D02")
    expense = next(c for c, r in sorted(s.items()) if r["item_kind"] == "费用" and r["amount"] < 2230)
    return "2026-Q3-A-AP-BIG", approval, expense, s[expense]["amount"]


@pytest.fixture()
def drawn(store):
    heads = {"D02": "E02", "D07": "E05"}
    store.table("departments").update([{"Id": d["Id"], "head": heads[d["code"]]}
                                       for d in store.table("departments").rows() if d["code"] in heads])
    store.table("customers").create([{"code": "C01", "name": CUSTOMER, "contact_name": "赵小明",
                                      "contact_phone": PHONE}])
    run(store)
    return store


@pytest.mark.req("AUD-5")
def test_findings_are_made_as_rows_are_checked_and_the_cycle_waits_for_the_rest(drawn):
    big, approval, _, _ = picks(drawn)
    check(drawn, done=lambda r: r["code"] in (big, approval),
          **{big: {"deviation": True, "finding": "审批链缺少 CEO 环节", "severity": "高"},
             approval: {"deviation": True}})  # a deviation nobody described yet
    result = run(drawn)
    assert result.plan.stats["cycles_evaluated"] == 0 and result.plan.stats["findings_new"] == 1
    cycle = rows(drawn, "audit_cycles")["2026-Q3"]
    assert cycle["status"] == "审计中" and not cycle.get("conclusion") and not cycle.get("report")
    found = rows(drawn, "audit_findings")["2026-Q3-F-A-AP-BIG"]
    # the applicant owns it; due 10 workdays after Mon 2026-10-12: Mon 2026-10-26
    assert (found["owner"], found["severity"], found["status"], found["due_date"]) == ("E04", "高", "待整改",
                                                                                       "2026-10-26")
    assert found["sample"] == big and not found.get("fraud")
    said = [i for i in result.plan.issues if i.table == "审计样本" and i.field == "问题描述"]
    assert [i.row_id for i in said] == [sample_rows(drawn)[approval]["Id"]]
    assert result.enqueued == 0 and rows(drawn, "audit_findings")["2026-Q2-F01"]["status"] == "整改中"


@pytest.mark.req("AUD-5")
def test_the_time_to_remedy_is_the_setting_an_admin_changes_in_the_settings_table(drawn):
    settings = drawn.table("settings")
    row = next(r for r in settings.rows() if r["key"] == "audit_finding_due_days")
    assert row["value"] == "10"  # seeded with SPEC's default
    settings.update([{"Id": row["Id"], "value": "5"}])
    big, _, _, _ = picks(drawn)
    check(drawn, done=lambda r: r["code"] == big,
          **{big: {"deviation": True, "finding": "审批链缺少 CEO 环节", "severity": "高"}})
    run(drawn)
    # 5 workdays after Mon 2026-10-12, not 10
    assert rows(drawn, "audit_findings")["2026-Q3-F-A-AP-BIG"]["due_date"] == "2026-10-19"


@pytest.mark.req("AUD-2", "AUD-5", "EVA-6", "SEC-3")
def test_a_finished_checklist_is_evaluated_reported_and_sent_once(drawn):
    api = drawn.api
    big, approval, expense, amount = picks(drawn)
    fraud = f"客户{CUSTOMER}的回访记录系伪造，电话 {PHONE} 查无此人"
    check(drawn, **{big: {"deviation": True, "finding": "审批链缺少 CEO 环节", "severity": "高"},
                    approval: {"deviation": True, "finding": fraud, "severity": "数据造假"},
                    expense: {"deviation": True, "finding": "多报金额", "audited_amount": amount / 2}})
    result = run(drawn)
    assert result.plan.stats["cycles_evaluated"] == 1, result.plan.issues
    cycle = rows(drawn, "audit_cycles")["2026-Q3"]
    assert cycle["status"] == "已完成"
    # 审批: 1 deviation in 59 drawn → upper limit 7.79 % (binomial) > 5 %: it sets the cycle's figures;
    # 活动: all 10 examined (a census) without deviation → 0 %.
    assert (cycle["deviation_rate"], cycle["upper_limit"]) == (0.0169, 0.0779)
    text = cycle["conclusion"]
    assert text.startswith("总体结论：审批、费用的控制不能信赖")
    # 费用 (MUS): book 133,825, tolerable 5 % = 6,691.25, 60 items, SI 2,230.4167; taint 0.5 →
    # upper = SI × (3.00 + 0.5 + 0.5 × 0.75) = SI × 3.875 = 8,642.86
    assert "错报上限 8,642.86 元" in text and "可容忍错报 6,691.25 元" in text
    assert "活动（属性抽样，总体 10）" in text and "偏差率上限为 0.00%" in text
    assert "审计发现：3 项，其中数据造假 1 项。" in text

    found = {c: f for c, f in rows(drawn, "audit_findings").items() if f["cycle"] == "2026-Q3"}
    assert sorted(found) == sorted(["2026-Q3-F-A-AP-BIG", "2026-Q3-F" + approval[len("2026-Q3"):],
                                    "2026-Q3-F" + expense[len("2026-Q3"):]])
    cheat = found["2026-Q3-F" + approval[len("2026-Q3"):]]
    assert (cheat["severity"], cheat["fraud"], cheat["owner"]) == ("严重", True, "E04")
    assert rows(drawn, "audit_findings")["2026-Q2-F01"]["status"] == "已复查"  # its re-check passed

    (attachment,) = cycle["report"]
    assert attachment["title"] == "audit-report-2026-Q3.html" and len(api.server.files) == 1
    html = api.server.files["audit-report-2026-Q3.html"].decode("utf-8")  # the multipart body as sent
    assert "2026-Q3 审计抽样报告" in html and "随机种子" in html and str(cycle["seed"]) in html
    assert "actops-audit/1" in html and "数据造假" in html and "7.79%" in html and "8,642.86" in html
    assert html.index('id="always"') < html.index("AP-BIG") < html.index('id="sample"')

    to = {m.recipient for m in result.plan.messages}
    assert to == {"E01", "E02", "E05"}  # the general manager; heads of 市场部 (D02) and 财务部 (D07, AP-BIG)
    mails = [m for m in result.plan.messages if m.channel == "邮件"]
    assert len(mails) == 3 and all(m.kind == "审计报告" and m.html and m.html in html for m in mails)
    everything = [html, result.plan.report, *(m.body + m.html for m in result.plan.messages)]
    assert "伪造" in html  # the finding is in the report …
    for t in everything:  # … with the customer's name and number masked
        assert leaks(t, [CUSTOMER, "赵小明"]) == [] and PHONE not in t

    # the evaluations job reads 数据造假 findings by owner into the person's 提示 (EVA-6)
    recs, _ = drawn.table("audit_findings").read()
    lines = evaluator_flags(0, 3, [f for f in recs if f.owner == "E04" and f.fraud])
    assert len(lines) == 1 and "数据造假" in lines[0] and cheat["code"] in lines[0]

    again = run(drawn)  # once: a rerun changes nothing
    assert again.enqueued == 0 and again.plan.stats["cycles_evaluated"] == 0 and len(api.server.files) == 1
    assert rows(drawn, "audit_cycles")["2026-Q3"] == cycle


@pytest.mark.req("AUD-3", "AUD-5")
def test_an_open_finding_is_carried_into_the_next_quarter(drawn):
    big, *_ = picks(drawn)
    check(drawn, **{big: {"deviation": True, "finding": "审批链缺少 CEO 环节"}})
    run(drawn)
    assert rows(drawn, "audit_cycles")["2026-Q3"]["status"] == "已完成"
    drawn.table("audit_cycles").create([{"code": "2026-Q4", "period_start": date(2026, 10, 1),
                                         "period_end": date(2026, 12, 31)}])
    run(drawn)
    q4 = {c: r for c, r in sample_rows(drawn).items() if r["cycle"] == "2026-Q4"}
    recheck = q4["2026-Q4-R-2026-Q3-F-A-AP-BIG"]
    assert recheck["reason"] == "上期整改复查" and recheck["item_kind"] == "整改复查"
    assert "2026-Q4-R-2026-Q2-F01" not in q4  # re-checked in Q3: closed, not carried again


@pytest.mark.req("AUD-5")
def test_a_report_that_cannot_be_stored_leaves_the_cycle_for_the_next_run(drawn, monkeypatch):
    check(drawn)
    real = drawn.api.upload

    def refuse(*a, **kw):
        raise ConnectionError("NocoDB is away")

    monkeypatch.setattr(drawn.api, "upload", refuse)
    failed = run(drawn)
    assert failed.enqueued == 0 and any("未能存入 NocoDB" in w for w in failed.plan.warnings)
    left = rows(drawn, "audit_cycles")["2026-Q3"]
    assert left["status"] == "已抽样" and not left.get("report") and not left.get("conclusion")  # as it was
    monkeypatch.setattr(drawn.api, "upload", real)
    CLOCK["now"] += timedelta(hours=1)
    retried = run(drawn)
    assert retried.plan.stats["cycles_evaluated"] == 1 and retried.enqueued == 1  # no deviation: the GM only
    assert rows(drawn, "audit_cycles")["2026-Q3"]["status"] == "已完成"


def test_recipients_are_the_general_manager_and_heads_of_departments_with_deviations(drawn):
    from actops.jobs.audit.verdict import Row
    from actops.kernel.snapshot import load_snapshot

    org = load_snapshot(drawn, base.NOW).org
    assert closing.recipients(org, [Row("a", "审批", "x", "D02"), Row("b", "审批", "y", "D07")]) == ["E01"]
    assert closing.recipients(org, [Row("a", "审批", "x", "D07", deviation=True),
                                    Row("b", "审批", "y", "D02", deviation=True),
                                    Row("c", "审批", "z", "D01", deviation=True)]) == ["E01", "E02", "E05"]
