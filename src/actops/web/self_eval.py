"""The self-evaluation page (EVA-2, EVA-7, STF-5): ``/self/<token>`` from the invitation.

The token binds a 工号 and one 考评周期 (:class:`actops.kernel.links.DecisionLinks` with
purpose ``self_eval``). The page shows only that person's own 考评表 row of that cycle —
nobody else's scores can be reached from it — and takes 业绩, 能力, 态度, a 自评分 (0–100)
and the required 改进计划. It can be saved again while the cycle is 已开启; afterwards it
says the cycle is closed. A submission without a valid link never reaches the row.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from actops.nocodb import F
from actops.web.decide import Refused, local

CYCLES, EVALS = "eval_cycles", "evaluations"
OPEN = "已开启"
MAX_TEXT = 4000
_lock = threading.Lock()


@dataclass
class SelfView:
    name: str
    code: str
    cycle: dict[str, Any]
    row: dict[str, Any]
    due: date | None = None  # as the invitation and the reminders state it


def load(store: Any, code: str, cycle_code: str) -> SelfView:
    ct, et = store.table(CYCLES), store.table(EVALS)
    cycles = ct.rows(ct.where(F("code") == cycle_code))
    if len(cycles) != 1:
        raise Refused(404, "考评周期不存在", f"找不到考评周期 {cycle_code}。", "请联系人事部门。")
    cycle = cycles[0]
    rows = et.rows(et.where((F("cycle") == cycle_code) & (F("employee") == code)))
    if len(rows) != 1:
        why = "没有您的考评表" if not rows else "有多行您的考评表"
        raise Refused(404 if not rows else 409, "无法打开自评", f"考评周期 {cycle_code} 中{why}。",
                      "请联系人事部门核对「考评表」。")
    if cycle.get("status") != OPEN:
        raise Refused(409, "自评已截止", f"考评周期 {cycle_code} 的状态是「{cycle.get('status') or '—'}」，不再接受自评。",
                      "如需修改，请联系人事部门。")
    row = rows[0]
    return SelfView(str(row.get("employee_name") or code), code, cycle, row, _due(store, cycle))


def _due(store: Any, cycle: dict[str, Any]) -> date | None:
    """The cycle's self-evaluation day, as :func:`actops.jobs.evaluations.cycle.self_eval_due`
    finds it for the invitation and the escalation ladder (``self_eval_day`` from 系统设置)."""
    from actops.jobs.evaluations.cycle import self_eval_due
    from actops.kernel.settings import Settings

    st = store.table("settings")
    settings, _ = Settings.from_rows(st.rows(st.where(F("key") == "self_eval_day")))
    try:
        return self_eval_due(cycle, settings.self_eval_day)
    except ValueError:
        return None  # the evaluations job notes the cycle's 期间


TEXTS = ("self_results", "self_ability", "self_attitude", "improvement_plan")


class Invalid(Refused):
    """A submission that cannot be saved as typed (400): the form is shown again with what
    was typed and this message, so nothing the person wrote is lost."""

    def __init__(self, field: str, heading: str, detail: str) -> None:
        super().__init__(400, heading, detail, "您填写的内容仍在下方表单中，改正后再次提交即可。")
        self.field = field


def _text(form: dict[str, list[str]], name: str) -> str:
    return str((form.get(name) or [""])[0]).strip()[:MAX_TEXT]


def typed(form: dict[str, list[str]]) -> dict[str, str]:
    """What the person submitted, to show again beside an :class:`Invalid` message."""
    return {k: _text(form, k) for k in (*TEXTS, "self_score")}


def save(store: Any, code: str, cycle_code: str, form: dict[str, list[str]], token: str, now: datetime) -> SelfView:
    """Write the person's self-evaluation into their own row; :class:`Refused` says what is wrong."""
    plan = _text(form, "improvement_plan")
    if not plan:
        raise Invalid("improvement_plan", "请填写改进计划", "改进计划为必填项：请写下一期的改进措施和时间。")
    score_text = _text(form, "self_score")
    try:
        score = float(score_text) if score_text else None
    except ValueError:
        score = -1.0
    if score is not None and not 0 <= score <= 100:
        raise Invalid("self_score", "自评分不对", f"自评分须为 0–100 的数字，收到的是「{score_text}」。")
    with _lock:  # one save at a time: the row read again under it is the one written
        view = load(store, code, cycle_code)
        values = {"Id": view.row["Id"], "self_results": _text(form, "self_results") or None,
                  "self_ability": _text(form, "self_ability") or None,
                  "self_attitude": _text(form, "self_attitude") or None, "improvement_plan": plan,
                  "self_score": score, "submitted_at": now,
                  "token_hash": hashlib.sha256(token.encode()).hexdigest()[:16]}
        store.table(EVALS).update([values])
        view.row.update(values)
        return view


def page_values(view: SelfView, expires: datetime, shown: dict[str, str] | None = None) -> dict[str, Any]:
    """The page's values: the row as saved, or ``shown`` (:func:`typed`) when it is shown again."""
    r, c = view.row, view.cycle
    values = {k: r.get(k) or "" for k in TEXTS}
    score = "" if r.get("self_score") is None else f"{r['self_score']:g}"
    if shown is not None:
        values, score = {k: shown.get(k, "") for k in TEXTS}, shown.get("self_score", "")
    return {"name": view.name, "code": view.code, "cycle": c.get("code"), "kind": c.get("kind") or "",
            "period": c.get("period") or "", "due": str(view.due or "—"),
            "submitted": local(r.get("submitted_at")) if r.get("submitted_at") else "",
            "values": values, "score": score, "expires": local(expires)}
