"""The escalation digest as a message: labels, rendering (zh-CN / en) and outbox messages."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from actops.jobs.escalations.digests import Digest
from actops.jobs.escalations.items import ItemKind, Notice
from actops.kernel.links import TodoLinks
from actops.messaging.outbox import Message, message_key
from actops.messaging.render import environment, fit_markdown, local_time, locale_of, safe_link

JOB = "escalations"
KIND = "提醒汇总"
MD_TITLE_CHARS = 60
# Past this many items a digest lists the most urgent ones and counts the rest: a mail of
# hundreds of rows is not read (the demo's general manager had 344), 「我的待办」 has them all.
DIGEST_MAX_ITEMS = 20

KIND_LABELS: dict[str, dict[ItemKind, str]] = {
    "zh-CN": {
        ItemKind.APPROVAL: "审批",
        ItemKind.REPORT: "工作报告",
        ItemKind.MINUTES: "会议纪要",
        ItemKind.ACTION: "待办事项",
        ItemKind.GATE: "阶段评审",
        ItemKind.POSTHOC: "特批补办",
        ItemKind.PROBLEM: "问题整改",
        ItemKind.SELF_EVAL: "自评",
        ItemKind.FINDING: "审计整改",
    },
    "en": {
        ItemKind.APPROVAL: "Approvals",
        ItemKind.REPORT: "Work reports",
        ItemKind.MINUTES: "Meeting minutes",
        ItemKind.ACTION: "Action items",
        ItemKind.GATE: "Stage gates",
        ItemKind.POSTHOC: "Post-hoc approvals",
        ItemKind.PROBLEM: "Problem fixes",
        ItemKind.SELF_EVAL: "Self-evaluations",
        ItemKind.FINDING: "Audit findings",
    },
}
RUNG_LABELS: dict[str, dict[int, str]] = {
    "zh-CN": {0: "未到期", 1: "提醒", 2: "已升级至上级", 3: "已升级至总经理"},
    "en": {
        0: "Not due",
        1: "Reminder",
        2: "Escalated to manager",
        3: "Escalated to general manager",
    },
}

def _groups(digest: Digest, locale: str, limit: int | None = None,
            only: frozenset[Notice] | None = None) -> list[dict]:
    """Template rows per kind; at most ``limit`` rows in total, in digest order."""
    out: list[dict] = []
    shown = 0
    for kind, notices in digest.groups(only):
        rows = []
        for n in notices:
            if limit is not None and shown >= limit:
                break
            shown += 1
            title = " ".join(str(n.item.title or "").split())
            short = title if len(title) <= MD_TITLE_CHARS else title[: MD_TITLE_CHARS - 1] + "…"
            rows.append(
                {
                    "code": n.item.code,
                    "title": title,
                    "title_short": short,
                    "due": local_time(n.item.due_at),
                    "rung": n.rung,
                    "rung_label": RUNG_LABELS[locale].get(n.rung, str(n.rung)),
                    "assignee_name": (n.assignee_name or n.item.assignee or "")
                    if n.rung > 1
                    else "",
                    "link": safe_link(n.item.link_for(n.recipient)),
                    "urgent": n.item.urgent,
                }
            )
        if rows:
            out.append({"kind": str(kind), "label": KIND_LABELS[locale][kind], "rows": rows})
    return out


def render_digest(
    digest: Digest, now: datetime, templates_dir: Path | None = None, todo_url: str | None = None
) -> tuple[str, str, str]:
    """Subject, HTML body and WeCom markdown in the recipient's locale (fallback zh-CN).

    Escalated items show the owner's name (``Notice.assignee_name``). Every item links to
    its NocoDB row (``OpenItem.link``; a self-evaluation to its owner's own /self/ page, and
    for anyone else to the 考评表 grid or nowhere: ``OpenItem.link_for``) and the digest to the person's 「我的待办」 page
    (``todo_url``, when personal links are configured). A digest of more than
    ``DIGEST_MAX_ITEMS`` lists only the most urgent ones (:meth:`Digest.most_urgent`), then
    counts all its items by kind and by the owner's department and points to 「我的待办」
    for the rest. The markdown keeps as many of those as fit under ``MD_MAX_BYTES`` and
    says how many it leaves out.
    """
    env = environment(templates_dir)
    locale = locale_of(digest.recipient.locale)
    count = len(digest.notices)
    limited = count > DIGEST_MAX_ITEMS
    top = digest.most_urgent(DIGEST_MAX_ITEMS) if limited else None
    base = {
        "recipient_name": digest.recipient.name,
        "urgent": digest.urgent,
        "now": local_time(now),
        "count": count,
        "limited": limited,
        "todo_url": safe_link(todo_url),
        "kind_counts": [(KIND_LABELS[locale][k], n) for k, n in digest.by_kind()] if limited else [],
        "dept_counts": list(digest.by_department) if limited else [],
    }
    subject = " ".join(env.get_template(f"digest_subject.{locale}.txt.j2").render(**base).split())
    groups = _groups(digest, locale, only=top)
    shown = sum(len(g["rows"]) for g in groups)
    html = env.get_template(f"digest.{locale}.html.j2").render(
        **base, subject=subject, groups=groups, shown=shown, omitted=count - shown,
    )
    md_tpl = env.get_template(f"digest.{locale}.md.j2")

    def md(limit: int) -> str:
        part = _groups(digest, locale, limit, only=digest.most_urgent(limit) if limited else None)
        return md_tpl.render(**base, groups=part, shown=limit, omitted=count - limit).strip() + "\n"

    return subject, html, fit_markdown(md, shown)


def messages(digests: list[Digest], now: datetime, templates_dir: Path | None = None,
             todo: TodoLinks | None = None) -> list[Message]:
    """One outbox message per digest and channel the recipient uses; the items it covers are
    the notices' keys (every rung, so the ledger learns all of them). With ``todo``, each
    digest carries its recipient's signed 「我的待办」 link."""
    out: list[Message] = []
    for d in digests:
        url = todo.url_for(d.recipient.code) if todo is not None else None
        subject, html, md = render_digest(d, now, templates_dir, todo_url=url)
        for channel, address in d.recipient.addresses():
            out.append(Message(
                key=message_key(JOB, d.recipient.code, channel, d.dedupe_keys), job=JOB, kind=KIND,
                recipient=d.recipient.code, channel=channel, address=address, subject=subject,
                body=md, html=html, items=d.dedupe_keys, urgent=d.urgent, not_before=d.send_after or now,
                recipient_name=d.recipient.name))
    return out
