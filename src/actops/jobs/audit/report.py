"""The cycle's report as people read it (issue 11 item 6): one zh-CN HTML page (the archived
file and the e-mail: inline styles, autoescaped), a short markdown for WeCom, and the markdown
of the run's report. Everything staff typed (问题描述) goes through
:func:`actops.messaging.masking.mask`; the rest is codes, names of departments and staff, and
numbers the system computed."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from actops.jobs.audit import evaluate
from actops.jobs.audit.verdict import KIND_ORDER, METHOD_ZH, MODEL_ZH, Row, Verdict
from actops.messaging.masking import mask
from actops.messaging.render import environment, local_time, md_escape

ALLOCATION_ZH = {"proportional": "按比例", "neyman": "最优分配（Neyman）"}
TEMPLATE = "audit_report.zh-CN"


@dataclass(frozen=True)
class FindingView:
    code: str
    severity: str
    description: str
    owner: str  # 工号
    due_date: date | None
    fraud: bool
    status: str


@dataclass(frozen=True)
class Cycle:
    code: str
    period_start: date
    period_end: date


@dataclass
class Rendered:
    subject: str
    html: str
    markdown: str  # WeCom and the e-mail's text part: the headline figures only
    report: str  # the run's report: the headline plus the findings


def _pct(x: Any) -> str:
    return "—" if x is None else f"{float(x):.2%}"


def _money(x: Any) -> str:
    return "—" if x is None else f"{float(x):,.2f}"


def render(cycle: Cycle, record: Mapping[str, Any], verdict: Verdict, rows: Sequence[Row],
           findings: Sequence[FindingView], departments: Mapping[str, str], people: Mapping[str, str],
           generated: datetime, names: Iterable[str] = (), templates_dir: Path | None = None) -> Rendered:
    """``departments``/``people``: code → name; ``names``: customer and contact names to mask."""
    names = list(names)
    p = record["params"]
    dept = (lambda code: departments.get(code or "", code or "—"))  # noqa: E731
    person = (lambda code: f"{people.get(code, '')} {code}".strip())  # noqa: E731

    def row_view(r: Row) -> dict[str, Any]:
        return {"code": r.code, "kind": r.kind, "item": r.item, "department": dept(r.department),
                "amount": _money(r.amount) if r.amount is not None else "", "reason": r.reason or "",
                "deviation": r.deviation, "audited": _money(r.audited) if r.audited is not None else "",
                "finding": mask(r.finding.strip(), names), "severity": r.severity or ""}

    ordered = sorted(rows, key=lambda r: (_order(r.kind), r.code))
    always = [r for r in ordered if not r.sampled]
    kinds = []
    for kind in sorted(record["kinds"], key=_order):
        k = record["kinds"][kind]
        kinds.append({"kind": kind, "method": METHOD_ZH.get(k.get("method"), k.get("method")),
                      "population": k.get("population", 0), "size": k.get("size", k.get("mus_size", "—")),
                      "n": k.get("n", 0), "always": sum(1 for r in always if r.kind == kind),
                      "allocation": "、".join(f"{dept(d)} {n}" for d, n in sorted((k.get("allocation") or {}).items())),
                      "book_value": _money(k.get("book_value")) if "book_value" in k else "",
                      "interval": _money(k.get("interval")) if "interval" in k else "",
                      "start": _money(k.get("start")) if "start" in k else "",
                      "tolerable": _money(float(p["tolerable_rate"]) * float(k["book_value"])) if "book_value" in k else "",
                      "top": k.get("top_stratum", "—"), "note": k.get("note", "")})
    results = [{"kind": k.kind, "method": METHOD_ZH.get(k.method, k.method), "text": k.text,
                "acceptable": k.acceptable, **_figures(k.result),
                "deviations": sum(r.deviation for r in rows if r.kind == k.kind and r.sampled)}
               for k in verdict.kinds]
    values = {
        "title": f"{cycle.code} 审计抽样报告", "cycle": cycle.code, "generated": local_time(generated),
        "period": f"{cycle.period_start.isoformat()} 至 {cycle.period_end.isoformat()}",
        "overall": verdict.overall, "acceptable": verdict.acceptable,
        "params": {"confidence": _pct(p.get("confidence")), "tolerable": _pct(p.get("tolerable_rate")),
                   "expected": _pct(p.get("expected_rate")), "model": _zh(MODEL_ZH, p.get("model")),
                   "allocation": _zh(ALLOCATION_ZH, p.get("allocation")),
                   "always_amount": _money(p.get("always_amount")),
                   "expense_method": _zh(METHOD_ZH, p.get("expense_method"))},
        "seed": record.get("seed", "—"), "version": record.get("method_version", "—"),
        "fingerprint": record.get("fingerprint", "—"),
        "kinds": kinds, "results": results,
        "in_full": [{"kind": f.kind, "examined": f.examined, "deviations": f.deviations} for f in verdict.in_full],
        "always": [row_view(r) for r in always],
        "sample": [row_view(r) for r in ordered if r.sampled],
        "deviations": sum(r.deviation for r in rows),
        "findings": [{"code": f.code, "severity": f.severity, "description": mask(f.description, names),
                      "owner": person(f.owner), "due": f.due_date.isoformat() if f.due_date else "—",
                      "fraud": f.fraud, "status": f.status} for f in sorted(findings, key=lambda f: f.code)],
    }
    env = environment(templates_dir)
    html = env.get_template(f"{TEMPLATE}.html.j2").render(**values)
    markdown = env.get_template(f"{TEMPLATE}.md.j2").render(**values).strip() + "\n"
    lines = [markdown, "", "## 审计发现"]
    lines += [f"- {f['code']}（{f['severity']}{'，数据造假' if f['fraud'] else ''}）{f['owner']}，"
              f"期限 {f['due']}：{md_escape(f['description'])}" for f in values["findings"]] or ["无"]
    return Rendered(values["title"], html, markdown, "\n".join(lines) + "\n")


def _figures(result: Any) -> dict[str, str]:
    if isinstance(result, evaluate.AttributeResult):
        return {"n": str(result.n), "rate": _pct(result.rate), "upper": _pct(result.upper), "tolerable": _pct(result.tolerable), "projected": "", "limit": ""}
    if isinstance(result, evaluate.MusResult):
        b = result.bound
        return {"n": str(result.n), "rate": "", "upper": "", "tolerable": _money(result.tolerable), "projected": _money(b.projected),
                "limit": _money(b.upper_limit)}
    return {"n": "0", "rate": "", "upper": "", "tolerable": "", "projected": "", "limit": ""}


def _zh(labels: Mapping[str, str], value: Any) -> str:
    return "—" if value is None else labels.get(value, str(value))


def _order(kind: str) -> int:
    return KIND_ORDER.index(kind) if kind in KIND_ORDER else len(KIND_ORDER)
