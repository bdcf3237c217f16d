"""Risks with their score history, and problems raised during activities."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from actops_dev.sample.calendar import DAY

if TYPE_CHECKING:
    from actops_dev.sample.core import Gen

RISKS = {
    "市场": (("同期竞品活动分流目标客户", "提前锁定重点客户邀约，增加差异化亮点"),
           ("市场反响低于预期，报名人数不足", "加大社群及老客户渠道推广，设置报名激励")),
    "客户": (("客户需求频繁变更，影响方案定稿", "约定变更确认流程，重大变更书面确认"),
           ("客户决策人临时变动", "同步多层级对接人，提前确认审批链"),
           ("客户付款延迟", "按合同节点催收，必要时暂停后续投入")),
    "安全": (("户外活动遇恶劣天气", "准备室内备选场地及雨具，提前关注天气预报"),
           ("现场人流密集存在踩踏隐患", "限流分区入场，配置安保及应急预案"),
           ("舞台搭建高空作业安全隐患", "要求供应商持证作业，现场安全员巡检")),
    "质量": (("供应商交付质量不达标", "关键物料打样确认，验收不合格不予付款"),
           ("设备故障影响活动效果", "关键设备双备份，技术人员现场值守"),
           ("物料制作延期", "提前下单并设置交付缓冲期")),
    "法律": (("肖像权及版权素材未获授权", "统一使用正版素材，嘉宾签署肖像授权书"),
           ("合同条款存在争议", "法务审核合同，明确违约责任"),
           ("宣传用语可能违反广告法", "宣传文案经法务与市场部双重审核")),
}
PROBLEMS = (("供应商物料延迟交付，影响布展进度", "供应商产能不足，下单时间偏晚"),
            ("现场音响设备故障，开场延迟15分钟", "设备进场后未完成完整联调"),
            ("嘉宾临时取消出席，需调整议程", "嘉宾行程确认不充分，缺少备选嘉宾"),
            ("报名人数超出场地容量", "报名渠道未设置人数上限"),
            ("宣传物料印刷错误，需重新制作", "终稿校对流程缺失"),
            ("费用报销票据不全", "经办人不熟悉报销制度"),
            ("客户对方案报价提出异议", "报价明细说明不清晰"),
            ("直播画面卡顿，观看体验差", "现场网络带宽预估不足"),
            ("场地消防审批未及时办理", "审批提前量不足，责任人不明确"),
            ("活动照片视频未及时归档", "结项清单缺少归档检查项"))


def build(g: Gen) -> None:
    lw = (10, 25, 30, 22, 13)
    for a in g.acts:
        stage = a["stage"]
        if stage in ("策划", "客户确认", "执行", "结项验收"):
            count = g.ri(1, 3)
        elif stage == "归档":
            count = 1 if g.r() < 0.3 else 0
        else:
            count = 1 if g.r() < 0.2 else 0
        for n in range(1, count + 1):
            cat = g.ch(tuple(RISKS))
            desc, mitigation = g.ch(RISKS[cat])
            lk, im = g.rng.choices(range(1, 6), weights=lw, k=2)
            if stage == "归档":
                status = "已关闭"
            elif stage == "结项验收":
                status = g.ch(("已缓解", "已关闭"))
            else:
                r = g.r()
                status = "识别" if r < 0.3 else ("监控中" if r < 0.75 else "已缓解")
            owner = a["owner"] if g.r() < 0.6 else g.worker(a["department"])
            risk = {"code": f"{a['code']}-R{n}", "activity": a["code"], "category": cat,
                    "description": desc, "likelihood": lk, "impact": im, "owner": owner,
                    "mitigation": mitigation, "status": status}
            g.t["risks"].append(risk)
            first = g.past(g.wt(a["start_date"] - dt.timedelta(days=g.ri(10, 40))), 200)
            changes = 0 if g.r() < 0.7 else g.ri(1, 2)
            levels = [(g.ri(1, 5), g.ri(1, 5)) for _ in range(changes)] + [(lk, im)]
            span = (g.limit - first).total_seconds()
            ats = sorted(first + dt.timedelta(seconds=g.u(0, span) * 0.8) for _ in range(changes))
            for h, ((l2, i2), at) in enumerate(zip(levels, [first, *ats], strict=True), 1):
                g.t["risk_history"].append({"code": f"{risk['code']}-H{h}", "risk": risk,
                                            "at": at.replace(microsecond=0), "likelihood": l2,
                                            "impact": i2, "score": l2 * i2})


def problems(g: Gen) -> None:
    today = g.today
    started = [a for a in g.acts if a["start_date"] < today and a["_si"] >= 3]
    rows = []
    for _ in range(40 * g.scale):
        desc, cause = g.ch(PROBLEMS)
        if g.r() < 0.85:
            a = g.ch(started)
            lo = a["start_date"] - dt.timedelta(days=5)
            hi = min(a["end_date"] + dt.timedelta(days=10), today - DAY)
            lo = min(lo, hi)
            reported = g.wt(lo + dt.timedelta(days=g.ri(0, (hi - lo).days)))
            owner = a["owner"] if g.r() < 0.5 else g.worker(a["department"])
            act = a["code"]
        else:
            reported = g.wt(today - dt.timedelta(days=g.ri(1, 120)))
            owner = g.ch(g.active)
            act = None
        reported = g.past(reported)
        due = reported.date() + dt.timedelta(days=g.ri(5, 20))
        r = g.r()
        if due < today:
            status = "已解决" if r < 0.55 else ("已关闭" if r < 0.8 else ("处理中" if r < 0.92 else "待处理"))
        else:
            status = "待处理" if r < 0.35 else ("处理中" if r < 0.8 else "已解决")
        rows.append({"code": None, "activity": act, "description": desc, "root_cause": cause,
                     "owner": owner, "reported_at": reported, "due_date": due, "status": status,
                     "escalation_level": 0})
    rows.sort(key=lambda p: p["reported_at"])
    for n, p in enumerate(rows, 1):
        p["code"] = f"PB-{n:06d}"
    g.t["problems"] = rows
