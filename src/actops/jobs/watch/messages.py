"""Messages of the watch job: a budget alert to the activity owner and finance, a risk
warning to the owner and their manager.

Each line or risk that crosses a threshold makes one :class:`Alert` per recipient; a run
sends each person one message per channel holding all of their alerts (finance would
otherwise get one mail per line: on a base the job first meets, hundreds). Each alert's
item key names the line and threshold (or the risk, the crossing and the level) and the
recipient, so an alert a dead run already enqueued for someone is not sent to them again,
whatever else their next message holds."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from actops.kernel.links import RowLinks
from actops.kernel.org import Org, Person
from actops.messaging.outbox import Message, message_key
from actops.messaging.render import environment, fit_markdown, locale_of, safe_link

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
DIGEST_SUBJECTS = {"zh-CN": "【预算与风险预警】共 {n} 项：{parts}", "en": "[Budget and risk warnings] {n} items: {parts}"}
PARTS = {"zh-CN": {"预警": "预算预警 {n} 项", "超支": "预算超支 {n} 项", "risk": "风险预警 {n} 项"},
         "en": {"预警": "{n} budget warning(s)", "超支": "{n} over budget", "risk": "{n} risk warning(s)"}}
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


@dataclass(frozen=True)
class Alert:
    """One line's or risk's warning for one person, in their language."""

    person: Person
    kind: str  # KIND_BUDGET or KIND_RISK
    level: str  # 预警, 超支 or risk
    subject: str
    lead: str
    rows: tuple[tuple[str, str], ...]
    item: str  # table:row_id:what:recipient
    row_url: str | None


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
                 ctx: Context) -> list[Alert]:
    amount = float(line.amount or 0)
    pct = f"{spent / amount * 100:.1f}%" if amount else "—"
    act = f"{activity.get('name') or ''}（{line.activity}）"
    out = []
    for person in budget_recipients(ctx.org, activity.get("owner")):
        locale = locale_of(person.locale)
        lab = LABELS[locale]
        rows = ((lab["activity"], act), (lab["line"], f"{line.category}（{line.code}）"),
                (lab["amount"], f"{amount:,.2f}"), (lab["spent"], f"{spent:,.2f}"), (lab["pct"], pct))
        subject = SUBJECTS[locale][level].format(activity=activity.get("name") or line.activity,
                                                 category=line.category, pct=pct)
        lead = LEADS[locale][level].format(ratio=f"{ratio * 100:g}%")
        out.append(_alert(person, KIND_BUDGET, level, subject, lead, rows, budget_item(line.Id, level),
                          ("budget_lines", line.Id), ctx))
    return out


def risk_warning(risk: Any, activity: dict[str, Any], score: int, band: str, level: int, item: str,
                 ctx: Context) -> list[Alert]:
    owner = ctx.org.people.get(risk.owner or "")
    out = []
    for person in risk_recipients(ctx.org, risk.owner):
        locale = locale_of(person.locale)
        lab = LABELS[locale]
        rows = ((lab["activity"], f"{activity.get('name') or ''}（{risk.activity}）"),
                (lab["risk"], f"{risk.category}（{risk.code}）"), (lab["description"], risk.description or "—"),
                (lab["score"], f"{risk.likelihood} × {risk.impact} = {score}（{band}）"),
                (lab["owner"], f"{owner.name}（{owner.code}）" if owner else (risk.owner or "—")),
                (lab["mitigation"], risk.mitigation or "—"))
        subject = SUBJECTS[locale]["risk"].format(activity=activity.get("name") or risk.activity,
                                                  category=risk.category, score=score, band=band)
        lead = LEADS[locale]["risk"].format(level=level)
        out.append(_alert(person, KIND_RISK, "risk", subject, lead, rows, item, ("risks", risk.Id), ctx))
    return out


def _alert(person: Person, kind: str, level: str, subject: str, lead: str, rows: tuple[tuple[str, str], ...],
           item: str, row: tuple[str, int], ctx: Context) -> Alert:
    url = safe_link(ctx.rows.row(*row)) if ctx.rows else None
    return Alert(person, kind, level, subject, lead, rows, f"{item}:{person.code}", url)


def per_person(alerts: list[Alert], ctx: Context, already: frozenset[str] | set[str] = frozenset()) -> list[Message]:
    """One message per person and channel with all of their alerts not in ``already`` (item
    keys a dead run enqueued), in the order they were found."""
    mine: dict[str, list[Alert]] = {}
    for a in alerts:
        if a.item not in already:
            mine.setdefault(a.person.code, []).append(a)
    return [m for group in mine.values() for m in _messages(group, ctx)]


def _messages(alerts: list[Alert], ctx: Context) -> list[Message]:
    person = alerts[0].person
    locale = locale_of(person.locale)
    if len(alerts) == 1:
        subject = alerts[0].subject
    else:
        counts = {lv: sum(1 for a in alerts if a.level == lv) for lv in ("超支", "预警", "risk")}
        parts = ("，" if locale == "zh-CN" else ", ").join(
            PARTS[locale][lv].format(n=n) for lv, n in counts.items() if n)
        subject = DIGEST_SUBJECTS[locale].format(n=len(alerts), parts=parts)
    values = {"subject": subject, "name": person.name, "alerts": alerts, "link_label": LABELS[locale]["link"],
              "omitted": 0}
    env = environment(ctx.templates_dir)
    html = env.get_template(f"watch_alert.{locale}.html.j2").render(**values)
    md_tpl = env.get_template(f"watch_alert.{locale}.md.j2")

    def md(n: int) -> str:  # WeCom takes 4 KB: the first n alerts, and how many the mail has besides
        return md_tpl.render(**{**values, "alerts": alerts[:n], "omitted": len(alerts) - n}).strip() + "\n"

    items = tuple(a.item for a in alerts)
    kinds = {a.kind for a in alerts}
    kind = kinds.pop() if len(kinds) == 1 else f"{KIND_BUDGET}、{KIND_RISK}"
    return [Message(key=message_key(JOB, person.code, channel, items), job=JOB, kind=kind, recipient=person.code,
                    channel=channel, address=address, subject=subject, body=fit_markdown(md, len(alerts)), html=html, items=items,
                    urgent=False, not_before=ctx.not_before, recipient_name=person.name)
            for channel, address in person.addresses()]
