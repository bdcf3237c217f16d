"""Risk watch as pure rules (RSK-1, RSK-2): no I/O, no clock (``now`` is a parameter).

* 风险值 = 可能性 × 影响程度, each an integer 1–5; anything else is reported on the row and
  the risk is skipped (no history, no warning) until it is fixed;
* 风险变更记录 keeps one row per change: the risk's last row (by 时间, then Id) is the level
  last seen; when likelihood or impact differ (or the risk has no row yet) a row is added,
  coded ``<风险编号>-H<n>`` with n one past the highest number used for that risk (the
  sample data's scheme), so a rerun finds it and adds nothing;
* a warning goes to the owner and their manager when the score reaches ``risk_warn_level``
  and 已预警风险值 is blank; 已预警风险值 then holds the score warned at. A score below the level
  clears it, so the next crossing warns again. Closed risks (已关闭) are not warned about.
  The warning's item key names the risk, the history row of the crossing and the level, so a
  run killed after enqueueing it plans the same key and the outbox sends it once.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from actops.jobs.watch.budget import Finding

CLOSED = "已关闭"
SCALE = range(1, 6)
_SEQ = re.compile(r"-H(\d+)$")


@dataclass
class RiskVerdict:
    risk: Any
    score: int
    history: dict[str, Any] | None = None  # the 风险变更记录 row to add
    state: str = ""  # names the level as recorded (the history row's number): part of the warning key
    warn: bool = False
    changes: dict[str, Any] = field(default_factory=dict)  # 已预警风险值


def band(score: int) -> str:
    """The 风险等级 formula of schema/actops/risks.yaml."""
    return "极高" if score >= 15 else "高" if score >= 10 else "中" if score >= 5 else "低"


def problems(risk: Any) -> list[Finding]:
    out = []
    for name, zh in (("likelihood", "可能性"), ("impact", "影响程度")):
        v = getattr(risk, name)
        if v not in SCALE:
            out.append(Finding(risk.Id, name, v, f"{zh}应为 1–5 的整数，此风险暂不监控；请改为 1 到 5 之间的数"))
    return out


def seq_of(code: str | None) -> int | None:
    m = _SEQ.search(str(code or ""))
    return int(m.group(1)) if m else None


def last_row(rows: Iterable[Any]) -> Any | None:
    """The level last recorded: the latest 时间, ties (and blank times) broken by Id."""
    rows = list(rows)
    if not rows:
        return None
    return max(rows, key=lambda r: (r.at.timestamp() if r.at else float("-inf"), r.Id or 0))


def next_code(risk_code: str, rows: list[Any], taken: set[str]) -> str:
    n = max([seq_of(r.code) or 0 for r in rows] + [len(rows)]) + 1
    while f"{risk_code}-H{n}" in taken:
        n += 1
    return f"{risk_code}-H{n}"


def judge(risk: Any, rows: list[Any], level: int, now: datetime, taken: set[str]) -> RiskVerdict:
    """History to add and warning to send for one valid risk (see :func:`problems`).

    ``rows`` are the risk's 风险变更记录 rows, ``taken`` every code in that table."""
    score = risk.likelihood * risk.impact
    v = RiskVerdict(risk, score)
    last = last_row(rows)
    if last is None or (last.likelihood, last.impact) != (risk.likelihood, risk.impact):
        code = next_code(risk.code, rows, taken)
        at = risk.UpdatedAt or risk.CreatedAt or now  # the edit that made the change, when known
        v.history = {"code": code, "risk": risk.code, "at": min(at, now), "likelihood": risk.likelihood,
                     "impact": risk.impact, "score": score}
        v.state = f"H{seq_of(code)}"
    else:
        n = seq_of(last.code)
        v.state = f"H{n}" if n is not None else f"R{last.Id}"
    if score >= level:
        if risk.warned_score is None and risk.status != CLOSED:
            v.warn = True
            v.changes["warned_score"] = score
    elif risk.warned_score is not None:
        v.changes["warned_score"] = None
    return v


def item_key(risk_id: int, state: str, level: int) -> str:
    return f"risks:{risk_id}:warn-{state}-L{level}"
