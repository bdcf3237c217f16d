"""Messages of the approvals job: "please decide" to whoever acts on a step now, and the
outcome to the applicant. One message per notice and channel; the key names the step (or
the request and outcome) and the person, so a rerun or a second run enqueues nothing twice."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from actops.jobs.approvals.flow import Notice
from actops.kernel.links import DecisionLinks, RowLinks
from actops.kernel.org import Org
from actops.messaging.outbox import Message, message_key
from actops.messaging.render import environment, locale_of, safe_link

JOB = "approvals"
KINDS = {"open": "待审批通知", "outcome": "审批结果"}
SUBJECTS = {
    "zh-CN": {"open": "【待审批】{title}（{code}）", "urgent": "【紧急·事后补办】{title}（{code}）",
              "已通过": "【已通过】{title}（{code}）", "已驳回": "【已驳回】{title}（{code}）",
              "emergency": "【总监特批已通过】{title}（{code}）", "posthoc-ok": "【补办完成】{title}（{code}）",
              "posthoc-no": "【补办未通过】{title}（{code}）"},
    "en": {"open": "[Approval needed] {title} ({code})", "urgent": "[Urgent, post-hoc] {title} ({code})",
           "已通过": "[Approved] {title} ({code})", "已驳回": "[Rejected] {title} ({code})",
           "emergency": "[Approved by director] {title} ({code})", "posthoc-ok": "[Post-hoc complete] {title} ({code})",
           "posthoc-no": "[Post-hoc rejected] {title} ({code})"},
}
LEADS = {
    "zh-CN": {"open": "以下申请等待您审批，请在截止时间前处理。", "urgent": "以下申请已由总监特批先行执行，须在截止时间前补办完整审批。",
              "已通过": "您的申请已审批通过。", "已驳回": "您的申请被驳回，请查看意见。",
              "emergency": "您的申请已由总监特批通过；完整审批将事后补办。", "posthoc-ok": "您的特批申请已补办完整审批。",
              "posthoc-no": "您的特批申请在事后补办中被驳回，已记入审计关注。"},
    "en": {"open": "The request below waits for your decision.", "urgent": "A director approved the request below in an emergency; the full approval must follow by the due time.",
           "已通过": "Your request was approved.", "已驳回": "Your request was rejected; see the comment.",
           "emergency": "A director approved your request in an emergency; the full chain follows after the fact.",
           "posthoc-ok": "The post-hoc approval of your request is complete.",
           "posthoc-no": "The post-hoc approval of your request was rejected; it is flagged for audit."},
}


@dataclass(frozen=True)
class Context:
    now: datetime
    not_before: datetime  # after quiet hours (urgent notices go at once)
    org: Org
    decide: DecisionLinks | None
    rows: RowLinks | None
    templates_dir: Path | None = None


def item_key(n: Notice, request: str) -> str:
    if n.kind == "open":
        return f"approval_steps:{n.step}:open:{n.to}"
    return f"approval_requests:{request}:outcome-{n.detail}:{n.to}"


def render(n: Notice, req: Mapping[str, Any], step: Mapping[str, Any] | None, ctx: Context) -> list[Message]:
    person = ctx.org.active(n.to)
    if person is None:
        return []
    locale = locale_of(person.locale)
    which = ("urgent" if n.urgent else "open") if n.kind == "open" else n.detail
    subject = SUBJECTS[locale][which].format(title=req.get("title") or "", code=req["code"])
    applicant = ctx.org.people.get(req.get("applicant") or "")
    amount = req.get("amount")
    values = {
        "subject": subject, "name": person.name, "lead": LEADS[locale][which],
        "request": {"code": req["code"], "title": req.get("title") or "", "kind": req.get("kind") or "",
                    "amount": "—" if amount is None else f"{amount:,.2f}",
                    "applicant": applicant.name if applicant else (req.get("applicant") or "—")},
        "step": ({"seq": step.get("seq"), "role": step.get("role"), "posthoc": bool(step.get("posthoc")),
                  "due": step.get("due_at")} if step else None),
        "comment": (req.get("_comment") or "") if n.kind == "outcome" else "",
        "decide_url": safe_link(ctx.decide.url_for(n.to, n.step)) if (ctx.decide and n.kind == "open") else None,
        "row_url": safe_link(ctx.rows.row("approval_requests", req.get("Id"))) if ctx.rows else None,
    }
    env = environment(ctx.templates_dir)
    html = env.get_template(f"approval_notice.{locale}.html.j2").render(**values)
    md = env.get_template(f"approval_notice.{locale}.md.j2").render(**values).strip() + "\n"
    items = (item_key(n, req["code"]),)
    return [Message(key=message_key(JOB, person.code, channel, items), job=JOB, kind=KINDS[n.kind],
                    recipient=person.code, channel=channel, address=address, subject=subject, body=md, html=html,
                    items=items, urgent=n.urgent, not_before=ctx.now if n.urgent else ctx.not_before,
                    recipient_name=person.name)
            for channel, address in person.addresses()]
