"""Audit cycles (AUD): last quarter's waits to be sampled, the one before is done."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from actops_dev.sample.calendar import quarter

if TYPE_CHECKING:
    from actops_dev.sample.core import Gen

AUDIT_FINDINGS = (
    ("中", "3 笔费用报销缺少发票原件，仅有电子截图", "已整改"),
    ("高", "紧急采购事后补办超过规定期限，未按制度升级", "整改中"),
    ("低", "活动结项验收纪要未写明负责人与完成期限", "已复查"),
    ("中", "两项活动预算调整未经计划调整审批", "待整改"),
    ("严重", "一份活动效果数据与原始记录不符，涉嫌数据造假", "整改中"),
)


def cycles(g: Gen) -> None:
    """Last quarter's cycle, waiting to be sampled; the one before, done, with its findings."""
    today = g.today
    last_q, last_q_start, last_q_end = quarter(today, 1)
    done_q, done_start, done_end = quarter(today, 2)
    g.t["audit_cycles"] += [
        {"code": done_q, "period_start": done_start, "period_end": done_end, "confidence": 0.95,
         "tolerable_rate": 0.05, "expected_rate": 0.0, "seed": 20000 + done_start.month, "status": "已完成",
         "deviation_rate": 0.017, "upper_limit": 0.046},
        {"code": last_q, "period_start": last_q_start, "period_end": last_q_end, "confidence": 0.95,
         "tolerable_rate": 0.05, "expected_rate": 0.0, "status": "待抽样"},
    ]
    heads = sorted({d["head"]["code"] if isinstance(d["head"], dict) else d["head"] for d in g.t["departments"]})
    for n, (severity, desc, status) in enumerate(AUDIT_FINDINGS, 1):
        g.t["audit_findings"].append({
            "code": f"{done_q}-F{n:02d}", "cycle": done_q, "severity": severity, "description": desc,
            "owner": heads[n % len(heads)], "due_date": done_end + dt.timedelta(days=30 + 7 * n),
            "status": status, "fraud": severity == "严重"})
