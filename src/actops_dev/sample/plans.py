"""Department plans (year, quarters, months) and their tasks (PLN)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from actops_dev.sample.calendar import DAY, month_add
from actops_dev.sample.org import DEPARTMENTS

if TYPE_CHECKING:
    from actops_dev.sample.core import Gen

DEPT_TASKS = {
    "D01": ("组织经营分析会", "督办重点项目进展", "完善公司制度汇编", "筹备年度战略会"),
    "D02": ("编制年度活动排期", "更新项目进度看板", "组织月度计划复盘", "输出运营数据分析报告", "优化立项审批流程"),
    "D03": ("制定品牌推广方案", "完成新媒体矩阵运营", "组织行业展会参展", "输出市场调研报告", "策划季度主题活动"),
    "D04": ("完成季度销售目标", "拓展重点行业客户", "组织经销商大会", "完善客户档案", "推进大客户续约"),
    "D05": ("制作活动宣传视频", "完成品牌内容日历", "提升内容触达人数", "建设素材库", "输出案例集"),
    "D06": ("完成直播系统升级", "建立设备巡检制度", "保障重点活动技术支持", "搭建数字化展厅"),
    "D07": ("完成季度预算执行分析", "优化报销审批流程", "开展费用专项检查", "编制年度预算"),
    "D08": ("完成年度招聘计划", "组织新员工培训", "推进绩效考评", "更新岗位说明书"),
    "D09": ("完成季度内审抽样", "跟踪整改事项落实", "编制审计报告", "开展紧急采购专项审计"),
    "D10": ("开展客户满意度回访", "处理客户投诉工单", "建立客户服务标准", "组织客户体验日"),
}


def build(g: Gen) -> None:
    today = g.today
    y, q, m = today.year, (today.month - 1) // 3 + 1, today.month
    periods: list[tuple[str, str, dt.date, dt.date, int, int]] = [
        ("年度", f"{y}", dt.date(y, 1, 1), dt.date(y, 12, 31), 5, 7)]
    for k in range(2, -1, -1):
        qi = (y * 4 + q - 1) - k
        qy, qq = qi // 4, qi % 4 + 1
        first = dt.date(qy, 3 * qq - 2, 1)
        periods.append(("季度", f"{qy}-Q{qq}", first, month_add(first, 3) - DAY, 3, 5))
    for k in range(3, -1, -1):
        first = month_add(dt.date(y, m, 1), -k)
        periods.append(("月度", f"{first:%Y-%m}", first, month_add(first, 1) - DAY, 2, 4))
    for kind, period, first, last, lo, hi in periods:
        for dept, dname, *_ in DEPARTMENTS:
            code = f"PL-{period}-{dept}"
            label = {"年度": f"{period}年度", "季度": f"{period[:4]}年第{period[-1]}季度",
                     "月度": f"{first.year}年{first.month}月"}[kind]
            g.t["plans"].append({"code": code, "kind": kind, "period": period, "department": dept,
                                 "title": f"{dname}{label}工作计划", "owner": g.heads[dept]})
            span = (last - first).days
            titles = g.rng.sample(DEPT_TASKS[dept], min(len(DEPT_TASKS[dept]), g.ri(lo, hi)))
            for n, title in enumerate(titles, 1):
                due = first + dt.timedelta(days=g.ri(span // 4, span))
                owner = g.worker(dept) if g.workers[dept] else g.heads[dept]
                task = {"code": f"{code}-T{n:02d}", "plan": code, "title": title, "owner": owner,
                        "due_date": due}
                r = g.r()
                if due < today:
                    status = "已完成" if r < 0.82 else ("已取消" if r < 0.88 else g.ch(("未开始", "进行中")))
                elif first <= today:
                    status = "已完成" if r < 0.25 else ("进行中" if r < 0.7 else "未开始")
                else:
                    status = "未开始"
                if status == "已完成":
                    d = min(due + dt.timedelta(days=g.ri(-10, 3)), today - DAY)
                    d = max(d, first)
                    if d >= today:
                        status = "进行中"
                    else:
                        task["done_at"] = g.wt(d)
                task["status"] = status
                g.t["plan_tasks"].append(task)
