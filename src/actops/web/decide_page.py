"""The decision page and its confirmation as HTML (layout in ``templates/decide*.html.j2``)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from actops.messaging.render import environment, local_time, safe_link
from actops.web.decide import StepView, local


def _amount(v: object) -> str:
    try:
        return f"{float(v):,.2f} 元"  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return "—"


_when = local


def render_decide(view: StepView, expires: datetime, row_url: str | None, templates_dir: Path | None = None) -> str:
    n = view.names
    r, s = view.request, view.step
    me = view.person["code"]
    return environment(templates_dir).get_template("decide.html.j2").render(
        name=view.person.get("name") or me, code=me,
        deputy_for=n.get(s.get("assignee"), s.get("assignee")) if me != s.get("assignee") else "",
        request={"code": r.get("code"), "title": r.get("title") or "", "kind": r.get("kind") or "—",
                 "amount": _amount(r.get("amount")), "applicant": n.get(r.get("applicant"), r.get("applicant") or "—"),
                 "submitted": _when(r.get("submitted_at"))},
        step={"code": s["code"], "role": s.get("role"), "due": _when(s.get("due_at"))},
        steps=[{"code": x["code"], "role": x.get("role"), "assignee": n.get(x.get("assignee"), x.get("assignee") or "—"),
                "delegate": n.get(x.get("delegate"), x.get("delegate")) if x.get("delegate") else "",
                "status": x.get("status") or ""} for x in view.steps],
        history=[{"at": _when(d.get("at")), "by": n.get(d.get("by"), d.get("by") or "—"), "decision": d.get("decision"),
                  "comment": d.get("comment") or ""} for d in view.history],
        row_url=safe_link(row_url), expires=local_time(expires))


def render_done(view: StepView, decision: str, comment: str, templates_dir: Path | None = None) -> str:
    return environment(templates_dir).get_template("decide_done.html.j2").render(
        request_code=view.request.get("code"), step_code=view.step["code"], decision=decision,
        comment=" ".join(str(comment or "").split()).rstrip("。."))
