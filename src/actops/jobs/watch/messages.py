"""Messages of the watch job: a budget alert to the activity owner and finance, a risk
warning to the owner and their manager. One message per person and channel; its item key
names the line and threshold (or the risk, the crossing and the level), so a rerun or a
second run enqueues nothing twice."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from actops.kernel.links import RowLinks
from actops.kernel.org import Org, Person
from actops.messaging.outbox import Message, message_key
from actops.messaging.render import environment, locale_of, safe_link

JOB = "watch"
FINANCE = "财务"
KIND_BUDGET, KIND_RISK = "预算预警", "风险预警"
THRESHOLD = {"预警": "warn", "超支": "over"}
SUBJECTS = {
    "zh-CN": {"预警": "【预算预警】{activity} {category} 已用 {pct}", "超支": "【预算超支】{activity} {category} 已用 {pct}",
              "risk": "【风险预警】{activity} {category}风险 风险值 {score}（{band}）"},
    "en": {"预警": "[Budget warning] {activity} {category}: {pct} used", "超支": "[Over budget] {activity} {category}: {pct} used",
           "risk": "[Risk warning] {activity} {category} risk: score {score} ({band})"},
}
LEADS = {
    "zh-CN": {"预警": "以下预算科目的已用金额已达到预警比例 {ratio}，请关注后续支出。",
              "超支": "以下预算科目的已用金额已达到或超过预算（100%），请核实并决定是否调整预算。",
              "risk": "以下风险的风险值已达到预警线 {level}，请确认应对措施并跟进。"},
    "en": {"预警": "The budget line below has reached the warning ratio of {ratio}; please watch further spending.",
           "超支": "The budget line below has used 100 % or more of its budget; please check it and decide on the budget.",
           "risk": "The risk below has reached the warning level of {level}; please confirm the mitigation and follow it up."},
}
LABELS = {
    "zh-CN": {"activity": "活动", "line": "预算科目", "amount": "预算金额", "spent": "已用金额", "pct": "使用率",
              "risk": "风险", "description": "风险描述", "score": "风险值", "owner": "责任人", "mitigation": "应对措施",
              "link": "在 NocoDB 中查看"},
    "en": {"activity": "Activity", "line": "Budget line", "amount": "Budget", "spent": "Spent", "pct": "Used",
           "risk": "Risk", "description": "Description", "score": "Score", "owner": "Owner", "mitigation": "Mitigation",
           "link": "View in NocoDB"},
}


@dataclass(frozen=True)
class Context:
    now: datetime
    not_before: datetime  # after quiet hours
    org: Org
    rows: RowLinks | None = None
    templates_dir: Path | None = None


def budget_item(line_id: int, level: str) -> str:
    return f"budget_lines:{line_id}:budget-{THRESHOLD[level]}"


def budget_recipients(org: Org, owner: str | None) -> list[Person]:
    return _unique([org.active(owner), *org.holders(FINANCE)])


def risk_recipients(org: Org, owner: str | None) -> list[Person]:
    chain = org.chain(owner) if owner else []
    return _unique([org.active(owner), org.active(chain[0]) if chain else None])


def _unique(people: list[Person | None]) -> list[Person]:
    seen: dict[str, Person] = {}
    for p in people:
        if p is not None and p.code not in seen:
            seen[p.code] = p
    return list(seen.values())


def budget_alert(line: Any, activity: dict[str, Any], level: str, spent: float, ratio: float,
                 ctx: Context) -> list[Message]:
    amount = float(line.amount or 0)
    pct = f"{spent / amount * 100:.1f}%" if amount else "—"
    act = f"{activity.get('name') or ''}（{line.activity}）"
    out = []
    for person in budget_recipients(ctx.org, activity.get("owner")):
        locale = locale_of(person.locale)
        lab = LABELS[locale]
        rows = [(lab["activity"], act), (lab["line"], f"{line.category}（{line.code}）"),
                (lab["amount"], f"{amount:,.2f}"), (lab["spent"], f"{spent:,.2f}"), (lab["pct"], pct)]
        subject = SUBJECTS[locale][level].format(activity=activity.get("name") or line.activity,
                                                 category=line.category, pct=pct)
        lead = LEADS[locale][level].format(ratio=f"{ratio * 100:g}%")
        out += _messages(person, KIND_BUDGET, subject, lead, rows, (budget_item(line.Id, level),),
                         ("budget_lines", line.Id), ctx)
    return out


def risk_warning(risk: Any, activity: dict[str, Any], score: int, band: str, level: int, item: str,
                 ctx: Context) -> list[Message]:
    owner = ctx.org.people.get(risk.owner or "")
    out = []
    for person in risk_recipients(ctx.org, risk.owner):
        locale = locale_of(person.locale)
        lab = LABELS[locale]
        rows = [(lab["activity"], f"{activity.get('name') or ''}（{risk.activity}）"),
                (lab["risk"], f"{risk.category}（{risk.code}）"), (lab["description"], risk.description or "—"),
                (lab["score"], f"{risk.likelihood} × {risk.impact} = {score}（{band}）"),
                (lab["owner"], f"{owner.name}（{owner.code}）" if owner else (risk.owner or "—")),
                (lab["mitigation"], risk.mitigation or "—")]
        subject = SUBJECTS[locale]["risk"].format(activity=activity.get("name") or risk.activity,
                                                  category=risk.category, score=score, band=band)
        lead = LEADS[locale]["risk"].format(level=level)
        out += _messages(person, KIND_RISK, subject, lead, rows, (item,), ("risks", risk.Id), ctx)
    return out


def _messages(person: Person, kind: str, subject: str, lead: str, rows: list[tuple[str, str]],
              items: tuple[str, ...], row: tuple[str, int], ctx: Context) -> list[Message]:
    locale = locale_of(person.locale)
    values = {"subject": subject, "name": person.name, "lead": lead, "rows": rows,
              "row_url": safe_link(ctx.rows.row(*row)) if ctx.rows else None, "link_label": LABELS[locale]["link"]}
    env = environment(ctx.templates_dir)
    html = env.get_template(f"watch_alert.{locale}.html.j2").render(**values)
    md = env.get_template(f"watch_alert.{locale}.md.j2").render(**values).strip() + "\n"
    return [Message(key=message_key(JOB, person.code, channel, items), job=JOB, kind=kind, recipient=person.code,
                    channel=channel, address=address, subject=subject, body=md, html=html, items=items,
                    urgent=False, not_before=ctx.not_before, recipient_name=person.name)
            for channel, address in person.addresses()]
