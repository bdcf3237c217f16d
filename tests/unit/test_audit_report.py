"""The cycle's report: what staff typed is escaped and masked, always-included items listed
apart from the sample, the short markdown fits a WeCom message."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from actops.jobs.audit import report, verdict
from actops.jobs.audit.verdict import Row
from actops.kernel.calendar import TZ
from actops.messaging.masking import leaks
from actops.messaging.render import MD_MAX_BYTES

RECORD = {"method_version": "actops-audit/1", "seed": 424242, "fingerprint": "f" * 64,
          "params": {"confidence": 0.95, "tolerable_rate": 0.05, "expected_rate": 0.0, "always_amount": 100000,
                     "model": "binomial", "allocation": "proportional", "expense_method": "mus"},
          "kinds": {"审批": {"method": "attribute", "population": 80, "n": 3, "size": 59,
                           "allocation": {"D02": 2, "D07": 1}}}}
TYPED = "客户华东实业（张伟 13812345678，zw@huadong.cn，身份证 110101199003071234）<script>alert(1)</script>"


def rendered() -> report.Rendered:
    rows = [Row("Q-A-1", "审批", "AP-001", "D02", 5000, "随机抽样", True, True, finding=TYPED, severity="高"),
            Row("Q-A-2", "审批", "AP-002", "D02", 6000, "随机抽样", True, False),
            Row("Q-A-3", "审批", "AP-003", "D07", 7000, "随机抽样", True, False),
            Row("Q-A-BIG", "审批", "AP-BIG", "D07", 150000, "大额事项", True, False)]
    v = verdict.verdict(RECORD, rows)
    found = [report.FindingView("Q-F-A-1", "高", TYPED, "E04", date(2026, 10, 26), False, "待整改")]
    return report.render(report.Cycle("2026-Q3", date(2026, 7, 1), date(2026, 9, 30)), RECORD, v, rows, found,
                         {"D02": "市场部", "D07": "财务部"}, {"E04": "钱专员"},
                         datetime(2026, 10, 12, 10, tzinfo=TZ), ["华东实业", "张伟"])


@pytest.mark.req("SEC-3", "AUD-5")
def test_what_staff_typed_is_masked_and_escaped_everywhere():
    r = rendered()
    for text in (r.html, r.markdown, r.report):
        assert leaks(text, ["华东实业", "张伟"]) == [] and "<script>" not in text
    assert "客户华***（张* 138****5678，z***@huadong.cn，身份证 110***********1234）&lt;script&gt;" in r.html
    assert "客户华\\*\\*\\*（张\\* 138\\*\\*\\*\\*5678" in r.report


@pytest.mark.req("AUD-3", "AUD-4")
def test_the_report_lists_always_included_items_apart_with_seed_version_and_sizes():
    html = rendered().html
    always, sample, found = html.index('id="always"'), html.index('id="sample"'), html.index('id="findings"')
    assert always < html.index("AP-BIG") < sample < html.index("AP-001") < found
    assert html.count("AP-BIG") == 1  # not in the sample table
    assert "424242" in html and "actops-audit/1" in html and "f" * 64 in html
    assert "市场部 2、财务部 1" in html and "钱专员 E04" in html and "2026-10-26" in html


def test_the_short_markdown_fits_a_wecom_message():
    md = rendered().markdown
    assert len(md.encode()) < MD_MAX_BYTES and "偏差上限" in md and "审计发现 1 项" in md
