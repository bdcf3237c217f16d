"""「我的待办」 as HTML: labels per locale beside the code, layout in ``templates/todo*.html.j2``.

The page is self-contained (inline CSS, system fonts, no script, no external asset) and
meant for a phone first. Stable hooks for tests and browser checks: ``<h1>我的待办</h1>``,
``section#overdue``, ``section#kind-<kind>``, ``section#team-overdue``, and one
``li.item[data-key="<table>:<Id>"]`` per item (``.overdue``, ``data-rung``).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from actops.jobs.escalations.items import ItemKind
from actops.jobs.escalations.messages import KIND_LABELS, RUNG_LABELS
from actops.messaging.render import environment, local_time, locale_of, safe_link
from actops.web.todo import TodoPage, TodoRow

SECTION_TITLES: dict[str, dict[ItemKind, str]] = {
    "zh-CN": {
        ItemKind.APPROVAL: "待我审批",
        ItemKind.REPORT: "待交报告",
        ItemKind.MINUTES: "待交会议纪要",
        ItemKind.ACTION: "待办事项",
        ItemKind.GATE: "阶段评审",
        ItemKind.POSTHOC: "特批补办",
        ItemKind.PROBLEM: "问题整改",
        ItemKind.SELF_EVAL: "待交自评",
        ItemKind.FINDING: "审计整改",
    },
    "en": {
        ItemKind.APPROVAL: "Approvals waiting for me",
        ItemKind.REPORT: "Reports due",
        ItemKind.MINUTES: "Meeting minutes due",
        ItemKind.ACTION: "Action items",
        ItemKind.GATE: "Stage gates",
        ItemKind.POSTHOC: "Post-hoc approvals",
        ItemKind.PROBLEM: "Problems to fix",
        ItemKind.SELF_EVAL: "Self-evaluations due",
        ItemKind.FINDING: "Audit findings to remedy",
    },
}
TEXT: dict[str, dict[str, str]] = {
    "zh-CN": {
        "title": "我的待办", "as_of": "截至", "total": "共 {n} 项", "overdue": "已逾期",
        "no_overdue": "没有逾期事项。", "nothing": "目前没有需要您处理的事项。", "due": "截止",
        "no_due": "未设截止时间", "owner": "负责人", "urgent": "紧急", "team": "本部门逾期事项",
        "team_note": "您所负责团队（按升级链：直属上级 → 部门负责人 → 总经理）中他人的逾期事项，按负责人部门分组。",
        "no_team": "本部门没有逾期事项。", "deputy_of": "代 {who} 审批", "delegated_to": "已转交 {who} 代理",
        "open_row": "在 NocoDB 中打开", "footer": "这是您的个人专用链接，请勿转发；有效期至 {exp}。"
                                              "点击编号可在 NocoDB 中打开对应记录（需先登录 NocoDB）。",
        "skipped": "另有 {n} 项因日期有误无法计算截止时间，已在对应行的「数据问题」中注明。",
        "items": "项",
    },
    "en": {
        "title": "My to-dos", "as_of": "As of", "total": "{n} items", "overdue": "Overdue",
        "no_overdue": "Nothing is overdue.", "nothing": "Nothing needs your attention right now.", "due": "Due",
        "no_due": "no due time", "owner": "Owner", "urgent": "Urgent", "team": "Overdue in my department",
        "team_note": "Overdue items of the people whose escalation chain (manager → department head → "
                     "general manager) includes you, by the owner's department.",
        "no_team": "Nothing in your department is overdue.", "deputy_of": "as deputy for {who}",
        "delegated_to": "handed to {who} (deputy)", "open_row": "Open in NocoDB",
        "footer": "This is your personal link; please do not forward it. It is valid until {exp}. "
                  "Tap a code to open the row in NocoDB (sign in to NocoDB first).",
        "skipped": "{n} more items have dates that cannot be read; their rows say so in 「数据问题」.",
        "items": "",
    },
}


def _row(r: TodoRow, locale: str, me: str) -> dict:
    t = TEXT[locale]
    return {
        "key": r.key, "kind": str(r.kind), "kind_label": KIND_LABELS[locale][r.kind], "code": r.code,
        "title": " ".join(str(r.title or "").split()), "link": safe_link(r.link),
        "due": local_time(r.due_at) if r.due_at else t["no_due"], "overdue": r.overdue, "rung": r.rung,
        "rung_label": RUNG_LABELS[locale].get(r.rung, str(r.rung)), "urgent": r.urgent,
        "owner": r.owner_name if r.owner != me else "", "department": r.department,
        "note": t["deputy_of"].format(who=r.deputy_of) if r.deputy_of
        else t["delegated_to"].format(who=r.delegated_to) if r.delegated_to else "",
    }


def render_todo(page: TodoPage, expires: datetime | None = None, templates_dir: Path | None = None) -> str:
    locale = locale_of(page.person.locale)
    t = TEXT[locale]
    me = page.person.code
    sections = [{"id": f"kind-{k}", "kind": str(k), "title": SECTION_TITLES[locale][k],
                 "rows": [_row(r, locale, me) for r in rows]} for k, rows in page.by_kind]
    team = [{"name": name, "rows": [_row(r, locale, me) for r in rows]} for name, rows in page.team]
    return environment(templates_dir).get_template("todo.html.j2").render(
        t=t, lang=locale, name=page.person.name, code=me, now=local_time(page.now),
        total=len(page.mine), overdue=[_row(r, locale, me) for r in page.overdue], sections=sections,
        is_manager=page.is_manager, team=team, team_total=sum(len(g["rows"]) for g in team),
        footer=t["footer"].format(exp=local_time(expires) if expires else "—"),
        skipped=t["skipped"].format(n=page.skipped) if page.skipped else "",
    )


def render_message(status: int, heading: str, detail: str, what_to_do: str,
                   templates_dir: Path | None = None, title: str = "我的待办") -> str:
    """A page that shows no data: refused links, errors, the home page (zh-CN, English below).
    ``title`` names the page the link was for (「我的待办」, 「自评」)."""
    return environment(templates_dir).get_template("todo_message.html.j2").render(
        status=status, heading=heading, detail=detail, what_to_do=what_to_do, title=title)
