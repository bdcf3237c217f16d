"""The escalation digest as a message: labels, rendering (zh-CN / en) and outbox messages."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from actops.jobs.escalations.digests import Digest
from actops.jobs.escalations.items import ItemKind
from actops.messaging.outbox import Message, message_key
from actops.messaging.render import environment, fit_markdown, local_time, locale_of, safe_link

JOB = "escalations"
KIND = "提醒汇总"
MD_TITLE_CHARS = 60
HTML_MAX_ITEMS = 200

KIND_LABELS: dict[str, dict[ItemKind, str]] = {
    "zh-CN": {
        ItemKind.APPROVAL: "审批",
        ItemKind.REPORT: "工作报告",
        ItemKind.MINUTES: "会议纪要",
        ItemKind.ACTION: "待办事项",
        ItemKind.GATE: "阶段评审",
        ItemKind.POSTHOC: "特批补办",
        ItemKind.PROBLEM: "问题整改",
    },
    "en": {
        ItemKind.APPROVAL: "Approvals",
        ItemKind.REPORT: "Work reports",
        ItemKind.MINUTES: "Meeting minutes",
        ItemKind.ACTION: "Action items",
        ItemKind.GATE: "Stage gates",
        ItemKind.POSTHOC: "Post-hoc approvals",
        ItemKind.PROBLEM: "Problem fixes",
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

def _groups(digest: Digest, locale: str, limit: int | None = None) -> list[dict]:
    """Template rows per kind; at most ``limit`` rows in total, in digest order."""
    out: list[dict] = []
    shown = 0
    for kind, notices in digest.groups():
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
                    "link": safe_link(n.item.link),
                    "urgent": n.item.urgent,
                }
            )
        if rows:
            out.append({"kind": str(kind), "label": KIND_LABELS[locale][kind], "rows": rows})
    return out


def render_digest(
    digest: Digest, now: datetime, templates_dir: Path | None = None
) -> tuple[str, str, str]:
    """Subject, HTML body and WeCom markdown in the recipient's locale (fallback zh-CN).

    Escalated items show the owner's name (``Notice.assignee_name``).  The markdown keeps
    as many items as fit under ``MD_MAX_BYTES`` and ends with a "…及其他 N 项" line.
    """
    env = environment(templates_dir)
    locale = locale_of(digest.recipient.locale)
    groups = _groups(digest, locale)
    count = sum(len(g["rows"]) for g in groups)
    base = {
        "recipient_name": digest.recipient.name,
        "urgent": digest.urgent,
        "now": local_time(now),
        "count": count,
    }
    subject = " ".join(env.get_template(f"digest_subject.{locale}.txt.j2").render(**base).split())
    # A digest of thousands of items is no use to read and would not fit NocoDB's 100,000
    # characters per long text: the mail lists the first HTML_MAX_ITEMS and counts the rest.
    html = env.get_template(f"digest.{locale}.html.j2").render(
        **base, subject=subject, groups=_groups(digest, locale, HTML_MAX_ITEMS),
        omitted=max(0, count - HTML_MAX_ITEMS),
    )
    md_tpl = env.get_template(f"digest.{locale}.md.j2")

    def md(limit: int) -> str:
        part = _groups(digest, locale, limit)
        return md_tpl.render(**base, groups=part, omitted=count - limit).strip() + "\n"

    return subject, html, fit_markdown(md, count)


def messages(digests: list[Digest], now: datetime, templates_dir: Path | None = None) -> list[Message]:
    """One outbox message per digest and channel the recipient uses; the items it covers are
    the notices' keys (every rung, so the ledger learns all of them)."""
    out: list[Message] = []
    for d in digests:
        subject, html, md = render_digest(d, now, templates_dir)
        for channel, address in d.recipient.addresses():
            out.append(Message(
                key=message_key(JOB, d.recipient.code, channel, d.dedupe_keys), job=JOB, kind=KIND,
                recipient=d.recipient.code, channel=channel, address=address, subject=subject,
                body=md, html=html, items=d.dedupe_keys, urgent=d.urgent, not_before=d.send_after or now,
                recipient_name=d.recipient.name))
    return out
