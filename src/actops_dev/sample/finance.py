"""Budget lines per activity, expenses against them, and the closing of archived activities."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from actops_dev.sample import approvals
from actops_dev.sample.calendar import DAY

if TYPE_CHECKING:
    from actops_dev.sample.core import Gen, Row

CATEGORIES = ("策划", "场地", "设备", "物资", "人员", "餐饮", "交通", "宣传")
CATEGORY_WEIGHT = {"策划": 1.0, "场地": 2.0, "设备": 1.5, "物资": 1.0, "人员": 1.2,
                   "餐饮": 0.8, "交通": 0.5, "宣传": 1.5}
EXPENSE_DESC = {
    "策划": ("策划方案设计费", "创意提案服务费", "活动流程策划费"),
    "场地": ("场地租赁费", "场地定金", "场地布置及搭建费"),
    "设备": ("音响灯光租赁费", "LED大屏租赁", "直播设备租赁费"),
    "物资": ("宣传物料制作费", "伴手礼采购", "展架及易拉宝制作"),
    "人员": ("主持人劳务费", "礼仪及临时人员费", "摄影摄像服务费"),
    "餐饮": ("茶歇及工作餐", "晚宴餐费", "嘉宾接待餐费"),
    "交通": ("嘉宾接送用车", "差旅交通费", "物料运输费"),
    "宣传": ("新媒体广告投放", "媒体邀约费", "户外广告发布费"),
}


def build(g: Gen) -> None:
    today = g.today
    expenses: list[Row] = []
    for a in g.acts:
        si = a["_si"]
        if si == 0:
            continue
        start, end, budget = a["start_date"], a["end_date"], a["budget"]
        cats = sorted(g.rng.sample(CATEGORIES, g.ri(3, 5)), key=CATEGORIES.index)
        ws = [CATEGORY_WEIGHT[c] * g.u(0.5, 1.5) for c in cats]
        amounts = [int(round(budget * w / sum(ws), -2)) for w in ws]
        amounts[-1] = budget - sum(amounts[:-1])
        if si >= 3:
            lo = start - dt.timedelta(days=15)
            hi = min(end + dt.timedelta(days=10), today - DAY)
            progress = 1.0 if si >= 4 else min(0.9, max(0.3, ((today - start).days + 1) / ((end - start).days + 1)))
        else:
            lo = max(today - dt.timedelta(days=30), start - dt.timedelta(days=45))
            hi = today - DAY
            progress = 0.0
        total_spent = 0.0
        for n, (cat, amount) in enumerate(zip(cats, amounts, strict=True), 1):
            line = {"code": f"{a['code']}-B{n}", "activity": a["code"], "category": cat,
                    "amount": amount}
            if progress > 0:
                r = g.r()
                if r < 0.09:
                    ratio = g.u(1.02, 1.3)
                elif r < 0.22:
                    ratio = g.u(0.8, 0.99)
                else:
                    ratio = g.u(0.3, 0.79) * progress
            elif g.r() < 0.25:
                ratio = g.u(0.1, 0.3)
            else:
                ratio = 0.0
            target = round(amount * ratio, 2)
            spent = 0.0
            if target > 0 and lo <= hi:
                k = 1 if target < 3000 or progress == 0 else g.ri(1, 3)
                parts = [g.u(0.5, 1.5) for _ in range(k)]
                vals = [round(target * p / sum(parts), 2) for p in parts]
                vals[-1] = round(target - sum(vals[:-1]), 2)
                for v in vals:
                    if v <= 0:
                        continue
                    on = lo + dt.timedelta(days=g.ri(0, (hi - lo).days))
                    status = "已支付" if on < today - dt.timedelta(days=15) and g.r() < 0.9 else "已批准"
                    expenses.append(expense(g, a, cat, v, on, status))
                    spent += v
                # now and then a rejected claim, or one still awaiting approval
                if g.r() < 0.05:
                    on = lo + dt.timedelta(days=g.ri(0, (hi - lo).days))
                    expenses.append(expense(g, a, cat, round(amount * g.u(0.05, 0.3), 2), on, "已驳回"))
                p_lo = max(lo, today - dt.timedelta(days=10))
                if p_lo <= hi and g.r() < 0.15:
                    on = p_lo + dt.timedelta(days=g.ri(0, (hi - p_lo).days))
                    expenses.append(expense(g, a, cat, round(amount * g.u(0.03, 0.2), 2), on, "待审批"))
            line["spent"] = round(spent, 2)
            total_spent += spent
            g.t["budget_lines"].append(line)
        if si >= 4:
            a["actual_cost"] = round(total_spent, 2)
    expenses.sort(key=lambda e: (e["spent_on"], e["_n"]))
    for n, e in enumerate(expenses, 1):
        e["code"] = f"EX-{n:06d}"
    g.t["expenses"] = expenses
    # closing of archived activities: outcome report, closed_at, ROI
    for a in g.acts:
        if a["stage"] == "归档":
            held = a["_close_held"]
            if g.r() < 0.8:
                req = approvals.request(g, "成果报告", a["owner"], f"{a['name']}活动成果报告", activity=a)
                approvals.decided(g, req, g.after(held, g.u(2, 30)), "已通过")
                closed = req["decided_at"] + dt.timedelta(hours=g.u(1, 24))
            else:
                closed = held + dt.timedelta(hours=g.u(2, 60))
            a["closed_at"] = g.past(closed.replace(microsecond=0))
            hi = 3.5 if a["type"] in ("销售", "市场推广", "客户交流") else 1.2
            a["roi"] = round(g.u(-0.3, hi), 2)
        elif a["stage"] == "结项验收" and g.r() < 0.7:
            req = approvals.request(g, "成果报告", a["owner"], f"{a['name']}活动成果报告", activity=a)
            r = g.r()
            if r < 0.65:
                approvals.pending(g, req, approvals.recent_open(g))
            elif r < 0.85:
                approvals.draft(g, req, g.limit - dt.timedelta(hours=g.u(2, 200)))
            else:
                approvals.decided(g, req, g.wt(a["end_date"] + dt.timedelta(days=g.ri(1, 5))), "已驳回")


def expense(g: Gen, a: Row, cat: str, amount: float, on: dt.date, status: str) -> Row:
    emp = a["owner"] if g.r() < 0.6 else g.worker(a["department"])
    e = {"code": None, "activity": a["code"], "category": cat, "amount": amount, "spent_on": on,
         "employee": emp, "description": g.ch(EXPENSE_DESC[cat]), "status": status,
         "_n": next(g._expense_n)}
    if g.r() < (0.6 if status == "待审批" else 0.25):
        req = approvals.request(g, "费用", emp, f"{a['name']}{cat}费用报销", amount=amount, activity=a)
        sub = g.wt(on + dt.timedelta(days=g.ri(0, 4)))
        if status == "待审批":
            sub = g.past(sub, 48)
            opened = sub + dt.timedelta(hours=g.u(0, max(0.0, (g.limit - sub).total_seconds() / 3600)))
            approvals.pending(g, req, opened, submitted=sub)
        else:
            approvals.decided(g, req, sub, "已驳回" if status == "已驳回" else "已通过")
        e["request"] = req
    return e
