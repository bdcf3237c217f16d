"""A monthly summary as people read it: HTML (e-mail with ``cid:`` charts, or a file with the
charts inside), a short WeCom markdown, and the markdown of the Prefect artifact (SUM-2).
Everything typed by staff or customers goes through :func:`actops.messaging.masking.mask`."""

from __future__ import annotations

import base64
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from actops.jobs.summaries.charts import Chart, FontMissing, bars, paired
from actops.jobs.summaries.metrics import COMPANY, MAJOR_DELAY, Numbers, change
from actops.messaging.masking import mask
from actops.messaging.render import environment, local_time, locale_of

LABELS = {
    "zh-CN": {"activities": "本月活动", "approvals": "审批完成", "cycle_p50": "审批周期中位数（工作日）",
              "on_time_rate": "报告按时率", "overdue_items": "逾期待办", "kpi_attainment": "KPI 平均达成率",
              "budget_used": "预算使用率", "high_risks": "高风险及以上", "satisfaction": "客户满意度（5 分制）",
              "major_delays": "重大延误", "title": "{scope} {month} 月度总结", "company": "全公司",
              "types": "活动类型", "budget": "预算与已用（元）", "owners": "逾期待办（按负责人）",
              "pair": ("预算", "已用"), "none": "—", "not_closed": "未结项"},
    "en": {"activities": "Activities", "approvals": "Approvals completed", "cycle_p50": "Median approval time (workdays)",
           "on_time_rate": "Reports on time", "overdue_items": "Overdue action items", "kpi_attainment": "KPI attainment",
           "budget_used": "Budget used", "high_risks": "High risks", "satisfaction": "Customer satisfaction (of 5)",
           "major_delays": "Major delays", "title": "{scope} monthly summary {month}", "company": "Company",
           "types": "Activities by type", "budget": "Budget and spent (CNY)", "owners": "Overdue items by owner",
           "pair": ("Budget", "Spent"), "none": "—", "not_closed": "not closed"},
}
PERCENT = {"on_time_rate", "kpi_attainment", "budget_used"}
WORSE_IF_UP = {"cycle_p50", "overdue_items", "high_risks", "major_delays"}


@dataclass
class Rendered:
    subject: str
    mail_html: str  # charts as cid:…
    file_html: str  # charts inside (data: URIs), for the archive
    markdown: str  # WeCom
    charts: tuple[Chart, ...]
    headline: str  # one line for the 月度总结 row


def _fmt(key: str, v: float | None, none: str) -> str:
    if v is None:
        return none
    if key in PERCENT:
        return f"{v * 100:.1f}%"
    return f"{v:g}" if isinstance(v, int) or float(v).is_integer() else f"{v:.2f}"


def _delta(key: str, d: float | None, locale: str) -> tuple[str, str]:
    if d is None or d == 0:
        return ("" if d is None else "±0"), "#656d76"
    points = " 个百分点" if locale == "zh-CN" else " pts"
    text = f"{d * 100:+.1f}{points}" if key in PERCENT else f"{d:+.2f}".rstrip("0").rstrip(".")
    worse = (d > 0) == (key in WORSE_IF_UP)
    return text, "#cf222e" if worse else "#1a7f37"


def charts_for(n: Numbers, locale: str, prefix: str) -> tuple[Chart, ...]:
    lab = LABELS[locale]
    try:
        out = []
        if n.by_type:
            out.append(bars(f"{prefix}-types", lab["types"], dict(sorted(n.by_type.items(), key=lambda x: -x[1]))))
        if n.budget:
            out.append(paired(f"{prefix}-budget", lab["budget"], n.budget, lab["pair"]))
        if n.overdue_items:
            top = dict(list(n.overdue_items.items())[:10])
            out.append(bars(f"{prefix}-owners", lab["owners"], top, horizontal=True))
        return tuple(out)
    except FontMissing:
        return ()


def render(n: Numbers, before: Numbers, scope_name: str, locale: str, generated: datetime,
           names: Iterable[str] = (), row_url: str | None = None, templates_dir: Path | None = None,
           charts: tuple[Chart, ...] | None = None) -> Rendered:
    """``names``: customer and contact names to mask wherever they appear."""
    locale = locale_of(locale)
    lab = LABELS[locale]
    names = list(names)
    now_h, delta = n.headline(), change(n.headline(), before.headline())
    headline = []
    for key, value in now_h.items():
        text, color = _delta(key, delta[key], locale)
        headline.append({"label": lab[key], "value": _fmt(key, value, lab["none"]), "change": text, "color": color})
    scope = lab["company"] if n.scope == COMPANY else scope_name
    title = lab["title"].format(scope=scope, month=n.month)
    delays = [{"name": mask(d.name, names), "owner": d.owner, "planned": d.planned_end.isoformat(),
               "actual": d.actual_end.isoformat() if d.actual_end else lab["not_closed"], "days": d.workdays,
               "major": d.workdays >= MAJOR_DELAY} for d in n.delays]
    charts = charts if charts is not None else charts_for(n, locale, f"{n.month}-{n.scope}")
    values = {
        "title": title, "scope_name": scope, "month": n.month, "generated": local_time(generated),
        "headline": headline, "delays": delays, "majors": [d for d in delays if d["major"]], "major": f"{MAJOR_DELAY:g}",
        "ending": n.ending, "on_schedule": n.on_schedule,
        "overdue": [{"owner": k, "count": v} for k, v in n.overdue_items.items()],
        "budget": [{"category": k, "budget": f"{b:,.0f}", "spent": f"{s:,.0f}",
                    "rate": f"{s / b * 100:.0f}%" if b else "—", "over": b > 0 and s > b} for k, (b, s) in n.budget.items()],
        "row_url": row_url,
    }
    env = environment(templates_dir)
    page = env.get_template(f"summary.{locale}.html.j2")
    mail = page.render(charts=[{"src": f"cid:{c.cid}", "title": c.title} for c in charts], **values)
    file = page.render(charts=[{"src": "data:image/png;base64," + base64.b64encode(c.png).decode(), "title": c.title}
                               for c in charts], **values)
    md = env.get_template(f"summary.{locale}.md.j2").render(**values).strip() + "\n"
    one_line = "；".join(f"{h['label']} {h['value']}" for h in headline[:5])
    return Rendered(title, mail, file, md, charts, one_line)


def artifact(numbers: list[Numbers], names: Iterable[str] = ()) -> str:
    """The Prefect artifact: one table row per scope (names masked as in the mails)."""
    names = list(names)
    keys = list(numbers[0].headline()) if numbers else []
    lab = LABELS["zh-CN"]
    head = "| 范围 | " + " | ".join(lab[k] for k in keys) + " |"
    rows = [f"| {n.scope} | " + " | ".join(_fmt(k, v, "—") for k, v in n.headline().items()) + " |" for n in numbers]
    majors = [f"- {n.scope}：{mask(d.name, names)}（{d.owner}，延误 {d.workdays} 个工作日）" for n in numbers
              if n.scope != COMPANY
              for d in n.major_delays]
    month = numbers[0].month if numbers else ""
    return "\n".join([f"# {month} 月度总结", "", head, "|" + "---|" * (len(keys) + 1), *rows, "",
                      "## 重大延误", *(majors or ["无"])])
