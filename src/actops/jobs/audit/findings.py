"""审计发现 from the checked sample (issue 11 item 7): pure.

* A 审计样本 row ticked 已检查 and 存在偏差, with 问题描述 filled, becomes one 审计发现 row, code
  ``<cycle>-F-<kind letter>-<item>`` (the sample's code with ``F`` after the cycle): the same
  row always gives the same code, so it is made once; a later edit of the sample does not
  change it (the finding is then the auditor's to edit). Made as soon as the row is checked,
  while the cycle is 已抽样 or 审计中, so the chase starts before the report.
* 严重程度 is the sample's, 中 when blank; 数据造假 is recorded as 严重 with 数据造假 ticked,
  which the evaluations job turns into a line in the person's 提示 (EVA-6).
* 整改责任人 is the item's owner: the approval's applicant, the expense's claimant, the
  activity's owner; else the head of the sample's department; else the general manager.
* 整改期限 is ``audit_finding_due_days`` workdays (系统设置, default 10) after the run that makes
  the finding (the work calendar); a finding already made keeps its date.
* A 整改复查 row makes no new finding: checked without deviation, the earlier finding is
  marked 已复查 when the cycle is evaluated; with a deviation it stays open and is re-checked
  again next quarter (its 问题描述 is in the report).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date

from actops.jobs.audit import draw
from actops.jobs.audit.verdict import Row

DEFAULT_SEVERITY = "中"
FRAUD = "数据造假"
FRAUD_SEVERITY = "严重"
SEVERITIES = ("低", "中", "高", "严重")
OPEN, RECHECKED = "待整改", "已复查"
RECHECK = draw.KIND_ZH[draw.RECHECK_KIND]


@dataclass(frozen=True)
class Finding:
    code: str
    cycle: str
    sample: str
    severity: str
    description: str
    owner: str
    due_date: date
    fraud: bool
    department: str | None = None

    def row(self) -> dict[str, object]:
        return {"code": self.code, "cycle": self.cycle, "sample": self.sample, "severity": self.severity,
                "description": self.description, "owner": self.owner, "due_date": self.due_date,
                "status": OPEN, "fraud": self.fraud}


def code_of(cycle: str, sample_code: str) -> str:
    rest = sample_code[len(cycle) + 1:] if sample_code.startswith(f"{cycle}-") else sample_code
    return f"{cycle}-F-{rest}"


def severity(value: str | None) -> tuple[str, bool]:
    """(严重程度 of the finding, 数据造假) from the sample's 严重程度."""
    if value == FRAUD:
        return FRAUD_SEVERITY, True
    return (value if value in SEVERITIES else DEFAULT_SEVERITY), False


def raised(rows: Iterable[Row]) -> list[Row]:
    """Rows that make a finding: checked, a deviation, described, not a re-check."""
    return [r for r in rows if r.checked and r.deviation and r.described and r.kind != RECHECK]


def make(cycle: str, rows: Iterable[Row], owners: Mapping[str, str | None], due: date) -> tuple[list[Finding], list[Row]]:
    """Findings of the raised rows (``owners``: sample code → 工号), and the rows nobody owns."""
    out, unowned = [], []
    for r in sorted(raised(rows), key=lambda r: r.code):
        who = owners.get(r.code)
        if not who:
            unowned.append(r)
            continue
        sev, fraud = severity(r.severity)
        out.append(Finding(code_of(cycle, r.code), cycle, r.code, sev, r.finding.strip(), who, due, fraud,
                           r.department))
    return out, unowned


def rechecked(rows: Iterable[Row]) -> list[str]:
    """Codes of earlier findings whose re-check passed (checked, no deviation)."""
    return sorted(r.item for r in rows if r.kind == RECHECK and r.checked and not r.deviation)
