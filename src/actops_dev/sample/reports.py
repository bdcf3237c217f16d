"""Reports (daily, weekly, monthly), meetings with their minutes, and action items."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from actops_dev.sample.calendar import DAY, H, at_hour, month_add, week_start
from actops_dev.sample.org import DEPARTMENTS

if TYPE_CHECKING:
    from actops_dev.sample.core import Gen, Row

LATE_REASONS = ("外出执行活动，现场网络不便，延后提交。", "客户临时加急需求，报告延后提交。",
                "出差途中，未能按时提交。", "身体不适请假一天，次日补交。", "系统登录异常，次日补交。",
                "等待财务数据核对后再提交。")
WORK_ITEMS = ("跟进客户需求并更新方案", "完成活动物料清单确认", "对接场地与供应商报价", "整理活动数据并输出复盘",
              "参加部门例会并落实待办", "协助完成活动现场执行", "完成宣传文案与海报审核", "更新项目进度表",
              "处理费用报销与票据整理", "准备下周客户拜访资料")
ACTION_TITLES = {
    "启动会": ("确认场地及供应商报价", "完成活动执行手册", "提交物料清单", "落实嘉宾邀请名单", "制定现场人员分工表"),
    "协调会": ("确认客户反馈的方案修改意见", "更新活动流程与时间表", "落实现场安全预案", "确认物料到场时间"),
    "中期评审": ("更新预算执行情况", "调整后续推广节奏", "补充风险应对措施"),
    "结项验收": ("提交结项报告与ROI分析", "完成供应商尾款结算", "整理活动影像资料归档", "完成客户满意度回访"),
    "例会": ("更新部门周计划", "跟进客户回款", "完成培训报名统计", "整理本周活动数据", "更新项目进度表"),
}


def meeting(g: Gen, kind: str, title: str, held: dt.datetime, dept: str,
            activity: Row | None = None) -> Row:
    m = {"code": None, "activity": activity["code"] if activity else None, "title": title,
         "kind": kind, "held_at": held, "recorder": g.worker(dept),
         "minutes_due_at": held + 24 * H, "escalation_level": 0, "_items": []}
    r = g.r()
    if r < 0.88:
        sub = held + dt.timedelta(hours=g.u(0.5, 6) if r < 0.6 else g.u(16, 23))
    elif r < 0.95:
        sub = held + dt.timedelta(hours=g.u(25, 72))
    else:
        sub = None
    if sub is not None and sub >= g.limit:
        sub = None
    m["minutes_submitted_at"] = sub.replace(microsecond=0) if sub else None
    if sub is not None:
        lo, hi = {"启动会": (1, 3), "中期评审": (1, 2), "结项验收": (1, 2)}.get(kind, (0, 2))
        lines = []
        for t in g.rng.sample(ACTION_TITLES[kind], g.ri(lo, hi)):
            owner = g.worker(dept)
            due = held.date() + dt.timedelta(days=g.ri(2, 14))
            item = {"code": None, "meeting": m, "activity": m["activity"], "title": t,
                    "owner": owner, "department": g.emp[owner]["department"],
                    "due_date": due, "escalation_level": 0}
            item_status(g, item, held)
            m["_items"].append(item)
            lines.append(f"{len(lines) + 1}. {t}（负责人：{g.emp[owner]['name']}，截止：{due.isoformat()}）")
        m["decisions"] = "\n".join(lines) if lines else "通报工作进展，无新增待办事项。"
    g.meetings.append(m)
    return m


def item_status(g: Gen, item: Row, held: dt.datetime) -> None:
    due, today = item["due_date"], g.today
    r = g.r()
    if due < today:
        status = "已完成" if r < 0.8 else ("已取消" if r < 0.85 else g.ch(("未开始", "进行中")))
    else:
        status = "未开始" if r < 0.4 else ("进行中" if r < 0.8 else "已完成")
    if status == "已完成":
        lo = held.date() + DAY
        hi = min(due + dt.timedelta(days=g.ri(1, 4) if g.r() < 0.1 else 0), today - DAY)
        if lo > hi:
            status = "进行中"
        else:
            item["done_at"] = g.wt(lo + dt.timedelta(days=g.ri(0, (hi - lo).days)), shift=False)
    item["status"] = status


def number_meetings(g: Gen) -> None:
    g.meetings.sort(key=lambda m: (m["held_at"], m["title"]))
    items = g.t["action_items"]
    for n, m in enumerate(g.meetings, 1):
        m["code"] = f"MT-{n:06d}"
        for it in m["_items"]:
            it["code"] = f"AI-{len(items) + 1:06d}"
            items.append(it)
    g.t["meetings"] = g.meetings


def weekly_meetings(g: Gen) -> None:
    this_monday = week_start(g.today)
    for k in range(12, 0, -1):
        monday = this_monday - dt.timedelta(days=7 * k)
        for code, name, *_ in DEPARTMENTS:
            held = dt.datetime.combine(monday, dt.time(9, 30)) + dt.timedelta(minutes=g.ri(0, 60))
            meeting(g, "例会", f"{name}周例会（{monday.month}月{monday.day}日）", held, code)


def build(g: Gen) -> None:
    today, now = g.today, g.now
    people = g.rng.sample([c for c in g.active if c != g.gm], 30 * g.scale)
    streaky = set(g.rng.sample(people, 3 * g.scale))
    daily = set(g.rng.sample(people, 4 * g.scale))
    this_monday = week_start(today)
    rows: list[Row] = []
    for emp in people:
        periods: list[tuple[str, dt.date, dt.datetime]] = []
        for k in range(13, 0, -1):
            mon = this_monday - dt.timedelta(days=7 * k)
            periods.append(("周报", mon, at_hour(mon + dt.timedelta(days=7), 18)))
        for k in range(3, 0, -1):
            first = month_add(today, -k)
            periods.append(("月报", first, at_hour(month_add(first, 1).replace(day=5), 18)))
        if emp in daily:
            d = today - dt.timedelta(days=2)
            days = []
            while len(days) < 10:
                if d.weekday() < 5:
                    days.append(d)
                d -= DAY
            periods += [("日报", d, at_hour(d + DAY, 18)) for d in reversed(days)]
        mine = []
        for kind, ps, due in periods:
            if due >= now:
                continue
            row = {"code": f"RP-{emp}-{ {'日报': 'D', '周报': 'W', '月报': 'M'}[kind] }-{ps:%Y%m%d}",
                   "employee": emp, "kind": kind, "period_start": ps, "due_at": due,
                   "late": False, "escalation_level": 0,
                   "content": f"本期完成：{'；'.join(g.rng.sample(WORK_ITEMS, 2))}。"
                              f"下期计划：{g.ch(WORK_ITEMS)}。"}
            r = g.r()
            if emp in streaky and due >= now - dt.timedelta(days=35):
                mode = "late_reason" if g.r() < 0.5 else "late"
            elif r < 0.86:
                mode = "ontime"
            elif r < 0.94:
                mode = "late_reason"
            elif r < 0.97:
                mode = "late"
            else:
                mode = "missing"
            sub = None
            if mode == "ontime":
                if kind == "周报":
                    sub = (g.wt(ps + dt.timedelta(days=4), 15, 19) if g.r() < 0.6
                           else g.wt(ps + dt.timedelta(days=7), 9, 18))
                elif kind == "月报":
                    sub = g.wt(due.date() - dt.timedelta(days=g.ri(0, 5)), 9, 18)
                else:
                    sub = (g.wt(ps, 17, 22, shift=False) if g.r() < 0.7
                           else g.wt(ps + DAY, 9, 18, shift=False))
                sub = min(sub, due)
            elif mode != "missing":
                sub = g.after(due, g.u(1, 72))
                if sub >= g.limit:
                    sub = None
                else:
                    row["late"] = True
                    if mode == "late_reason":
                        row["late_reason"] = g.ch(LATE_REASONS)
            row["submitted_at"] = sub.replace(microsecond=0) if sub else None
            mine.append(row)
        mine.sort(key=lambda x: x["due_at"])
        streak = 0
        for row in reversed(mine):
            if row["submitted_at"] is None:
                continue
            if not row["late"]:
                break
            streak += 1
        g.emp[emp]["late_streak"] = streak
        rows += mine
    g.t["reports"] = rows
