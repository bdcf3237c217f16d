"""Rendering of reminder digests (ESC-5) into e-mail HTML, WeCom markdown and a subject.

Everything staff typed is escaped (SEC-3): HTML templates autoescape, markdown goes
through the ``md`` filter.  Labels are per locale here, so the templates stay layout only.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path

import jinja2

from actops.rules.escalation import Digest, ItemKind
from actops.rules.workdays import to_local

DEFAULT_LOCALE = "zh-CN"
LOCALES = ("zh-CN", "en")
MD_MAX_BYTES = 4000  # WeCom bot markdown limit is 4096 bytes; keep a margin
MD_TITLE_CHARS = 60

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

_REPO_ROOT = Path(__file__).resolve().parents[2]
_MD_SPECIAL = re.compile(r"([\\*_`\[\]()#<>!|~])")
_SAFE_URL = re.compile(r"^https?://[^\s()<>\"'\\\[\]]+$")


def md_escape(text: object) -> str:
    """Backslash-escape markdown control characters and flatten newlines to spaces.

    Staff-typed text must not turn into formatting, links or ``<font>`` tags in WeCom.
    """
    flat = " ".join(str(text if text is not None else "").splitlines())
    # WeCom documents no backslash escapes for tags: angle brackets become full-width, so
    # no <font> or <@mention> can be formed whatever the client makes of the backslashes.
    flat = flat.replace("<", "＜").replace(">", "＞")
    return _MD_SPECIAL.sub(r"\\\1", flat)


def local_time(dt: datetime | None) -> str:
    """``YYYY-MM-DD HH:MM`` in Asia/Shanghai, or a dash."""
    if dt is None:
        return "—"
    local = to_local(dt)
    if (local.hour, local.minute) == (0, 0):
        # Deadlines that end a day are stored as the next midnight; people read "by 23:59".
        local -= timedelta(minutes=1)
    return local.strftime("%Y-%m-%d %H:%M")


def environment(templates_dir: Path | None = None) -> jinja2.Environment:
    """Jinja environment: autoescape for ``*.html.j2``, undefined names are errors."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir or _REPO_ROOT / "templates")),
        autoescape=jinja2.select_autoescape(
            enabled_extensions=("html.j2",), default_for_string=False, default=False
        ),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["md"] = md_escape
    env.filters["local_time"] = local_time
    return env


def _locale(value: str | None) -> str:
    if value in LOCALES:
        return value
    if value and value.lower().startswith("en"):
        return "en"
    return DEFAULT_LOCALE


def _safe_link(link: str | None) -> str | None:
    """Only plain http(s) links survive; ``javascript:`` and the like are dropped."""
    link = (link or "").strip()
    return link if _SAFE_URL.match(link) else None


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
                    "link": _safe_link(n.item.link),
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
    locale = _locale(digest.recipient.locale)
    groups = _groups(digest, locale)
    count = sum(len(g["rows"]) for g in groups)
    base = {
        "recipient_name": digest.recipient.name,
        "urgent": digest.urgent,
        "now": local_time(now),
        "count": count,
    }
    subject = " ".join(env.get_template(f"digest_subject.{locale}.txt.j2").render(**base).split())
    html = env.get_template(f"digest.{locale}.html.j2").render(
        **base, subject=subject, groups=groups
    )
    md_tpl = env.get_template(f"digest.{locale}.md.j2")

    def md(limit: int) -> str:
        part = _groups(digest, locale, limit)
        return md_tpl.render(**base, groups=part, omitted=count - limit).strip() + "\n"

    text = md(count)
    if len(text.encode()) >= MD_MAX_BYTES:
        lo, hi = 0, count - 1  # binary search for the most items that fit
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if len(md(mid).encode()) < MD_MAX_BYTES:
                lo = mid
            else:
                hi = mid - 1
        text = md(lo)
    return subject, html, text
