"""KPI results per department and quarter, and the open evaluation cycles HR starts from."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from actops_dev.sample.calendar import month_add, quarter
from actops_dev.sample.org import DEPARTMENTS

if TYPE_CHECKING:
    from actops_dev.sample.core import Gen


def kpis(g: Gen) -> None:
    today = g.today
    y, q = today.year, (today.month - 1) // 3 + 1
    periods = []
    for _ in range(4):
        q -= 1
        if q == 0:
            y, q = y - 1, 4
        periods.append(f"{y}-Q{q}")
    periods.reverse()
    gauss = g.rng.gauss
    bias = {d[0]: g.u(-0.06, 0.06) for d in DEPARTMENTS}
    for period in periods:
        for dept, *_ in DEPARTMENTS:
            b = bias[dept]
            values = {
                "K-COLLAB": min(1.0, max(0.6, 0.9 + b + gauss(0, 0.04))),
                "K-DONE": min(1.0, max(0.6, 0.9 + b + gauss(0, 0.05))),
                "K-COST": min(1.3, max(0.8, 1.0 - 1.5 * b + gauss(0, 0.05))),
                "K-SAT": min(1.0, max(0.7, 0.9 + b + gauss(0, 0.03))),
                "K-ERR": min(0.06, max(0.002, 0.02 - 0.2 * b + gauss(0, 0.006))),
            }
            if dept == "D05":
                values["K-REACH"] = int(50000 * max(0.4, 1 + 3 * b + gauss(0, 0.12)))
            for kpi, v in values.items():
                g.t["kpi_results"].append({
                    "code": f"KR-{period}-{dept}-{kpi}", "kpi": kpi, "period": period,
                    "subject": dept, "actual": v if isinstance(v, int) else round(v, 4)})


def cycles(g: Gen) -> None:
    """The open cycles: last month's self-assessment and last quarter's review."""
    today = g.today
    month = month_add(today.replace(day=1), -1)
    last_q, _, last_q_end = quarter(today, 1)
    g.t["eval_cycles"] += [
        {"code": f"{month:%Y-%m}-自评", "kind": "月度自评", "period": f"{month:%Y-%m}",
         "due_date": today.replace(day=5) if today.day <= 5 else month_add(today, 1).replace(day=5),
         "w_kpi": 0.4, "w_supervisor": 0.3, "w_self": 0.1, "w_judges": 0.2, "missing_rule": "重新分配权重",
         "status": "已开启"},
        {"code": f"{last_q}-考评", "kind": "季度考评", "period": last_q, "due_date": last_q_end + dt.timedelta(days=30),
         "w_kpi": 0.4, "w_supervisor": 0.3, "w_self": 0.1, "w_judges": 0.2, "missing_rule": "标记待补",
         "cross_judges": 2, "forced_distribution": True, "status": "已开启"},
    ]
