"""Activities and their lifecycle: stage, initiation request, stage gates, documents."""

from __future__ import annotations

import datetime as dt
import math
from typing import TYPE_CHECKING

from actops_dev.sample import approvals, reports
from actops_dev.sample.calendar import DAY, add_wd, at_hour
from actops_dev.sample.customers import CITIES
from actops_dev.sample.org import DEPT_NAME

if TYPE_CHECKING:
    from actops_dev.sample.core import Gen, Row

STAGES = ("立项申请", "策划", "客户确认", "执行", "结项验收", "归档")
TYPES = ("市场推广", "客户交流", "团队建设", "培训", "销售", "技术")
TYPE_WEIGHTS = (25, 20, 12, 13, 18, 12)
TYPE_DEPTS = {
    "市场推广": (("D03", 70), ("D05", 30)),
    "客户交流": (("D04", 50), ("D10", 50)),
    "团队建设": (("D08", 55), ("D02", 10), ("D03", 10), ("D04", 10), ("D06", 8), ("D10", 7)),
    "培训": (("D08", 60), ("D02", 20), ("D06", 20)),
    "销售": (("D04", 85), ("D10", 15)),
    "技术": (("D06", 85), ("D05", 15)),
}
TYPE_CUSTOMER_P = {"市场推广": 0.75, "客户交流": 1.0, "团队建设": 0.0, "培训": 0.05,
                   "销售": 0.9, "技术": 0.7}
TYPE_BUDGET = {"市场推广": (50_000, 800_000), "客户交流": (30_000, 500_000),
               "团队建设": (20_000, 150_000), "培训": (10_000, 80_000),
               "销售": (50_000, 600_000), "技术": (50_000, 1_000_000)}
ACT_NAMES = {
    "市场推广": ("新品发布会", "品牌开放日", "新品路演", "直播推广周", "城市快闪活动", "品牌联名活动",
             "行业展会参展", "社交媒体推广季", "户外广告投放", "品牌周年庆"),
    "客户交流": ("客户答谢会", "VIP客户沙龙", "客户年会", "行业交流峰会", "客户走访交流", "高端客户品鉴会",
             "合作伙伴大会", "客户体验日"),
    "团队建设": ("团队拓展训练", "年度团建", "员工运动会", "户外徒步活动", "年终晚会", "读书分享会", "家庭日活动"),
    "培训": ("新员工入职培训", "销售技能培训", "项目管理培训", "活动安全培训", "财务制度培训", "领导力训练营",
           "新媒体运营培训"),
    "销售": ("经销商大会", "渠道招商会", "新品订货会", "战略合作签约仪式", "区域促销活动", "门店开业活动",
           "会员日促销"),
    "技术": ("技术交流研讨会", "产品技术发布会", "开发者大会", "系统上线保障", "直播技术保障", "数字化展厅搭建",
           "线上活动平台升级"),
}
TYPE_CONTENT = {
    "市场推广": "通过线下活动与线上直播联动提升品牌曝光，收集潜在客户线索。",
    "客户交流": "回顾年度合作成果，介绍新产品与服务，增进与重点客户的沟通。",
    "团队建设": "增强团队凝聚力与跨部门协作，活动含分组竞赛与聚餐。",
    "培训": "邀请内外部讲师授课，课后进行考核与满意度调查。",
    "销售": "发布渠道政策与优惠方案，现场签约并跟进意向订单。",
    "技术": "提供舞美、音视频与直播系统支持，保障现场技术稳定运行。",
}
REGIONS = ("华东区", "华南区", "华北区", "西南区", "华中区", "上海", "北京", "深圳", "杭州", "成都", "广州", "南京")
SEASONS = {12: "冬季", 1: "冬季", 2: "冬季", 3: "春季", 4: "春季", 5: "春季",
           6: "夏季", 7: "夏季", 8: "夏季", 9: "秋季", 10: "秋季", 11: "秋季"}
VENUES = ("国际会展中心", "希尔顿酒店宴会厅", "万豪酒店多功能厅", "创意产业园", "公司总部报告厅",
          "城市广场", "湖畔度假村", "科技园会议中心", "美术馆")
BAD_DOC_NAMES = ("最终版方案(2).docx", "新建 Microsoft Word 文档.docx", "活动方案终稿改.pptx",
                 "报价单-最新.xlsx", "会议记录 副本.docx", "{name}方案最终版.pdf", "{name}_v2_修改稿.docx",
                 "IMG_{n}.jpg")


def duration(g: Gen, typ: str) -> int:
    r, ri = g.r(), g.ri
    if typ in ("客户交流", "团队建设"):
        return ri(1, 3) if r < 0.9 else ri(4, 20)
    if typ == "培训":
        return ri(1, 5) if r < 0.8 else ri(20, 60)
    if typ == "市场推广":
        return ri(1, 5) if r < 0.65 else (ri(14, 60) if r < 0.93 else ri(91, 180))
    if typ == "销售":
        return ri(1, 7) if r < 0.7 else (ri(20, 80) if r < 0.94 else ri(91, 150))
    return ri(2, 20) if r < 0.7 else (ri(21, 80) if r < 0.9 else ri(91, 200))


def build(g: Gen) -> None:
    today = g.today
    acts: list[Row] = []
    names_seen: dict[str, int] = {}
    for i in range(320 * g.scale):
        typ = g.rng.choices(TYPES, weights=TYPE_WEIGHTS)[0]
        depts, weights = zip(*TYPE_DEPTS[typ], strict=True)
        dept = g.rng.choices(depts, weights=weights)[0]
        dur = duration(g, typ)
        r = g.r()
        if r < 0.78:
            start = today - dt.timedelta(days=g.ri(20, 365))
        elif r < 0.87:
            start = today - dt.timedelta(days=g.ri(0, 30))
            if start + dt.timedelta(days=dur - 1) < today:
                dur = (today - start).days + g.ri(1, 10)
        else:
            start = today + dt.timedelta(days=g.ri(1, 14) if g.r() < 0.35 else g.ri(15, 75))
        end = start + dt.timedelta(days=dur - 1)
        customer = g.ch(g.customer_rows) if g.r() < TYPE_CUSTOMER_P[typ] else None
        base = g.ch(ACT_NAMES[typ])
        pr = g.r()
        if customer is not None and pr < 0.3:
            nm = customer["_brand"] + base
        elif pr < 0.55:
            nm = SEASONS[start.month] + base
        elif pr < 0.85:
            nm = g.ch(REGIONS) + base
        elif typ in ("团队建设", "培训"):
            nm = DEPT_NAME[dept] + base
        else:
            nm = f"{start.year}年{base}"
        k = names_seen.get(nm, 0) + 1
        names_seen[nm] = k
        if k > 1:
            nm = f"{nm}第{k}期"
        lo, hi = TYPE_BUDGET[typ]
        budget = math.exp(g.u(math.log(lo), math.log(hi))) * (1.5 if dur > 60 else 1)
        budget = int(round(budget, -3))
        acts.append({
            "code": None, "name": nm, "type": typ, "stage": None, "department": dept,
            "owner": g.worker(dept), "customer": customer,
            "content": f"拟于{g.ch(CITIES)}{g.ch(VENUES)}举办，预计参与{g.ri(3, 60) * 10}人。"
                       f"{TYPE_CONTENT[typ]}",
            "start_date": start, "end_date": end, "budget": budget, "_i": i,
        })
    acts.sort(key=lambda a: (a["start_date"], a["end_date"], a["_i"]))
    per_year: dict[int, int] = {}
    for a in acts:
        y = a["start_date"].year
        per_year[y] = per_year.get(y, 0) + 1
        a["code"] = f"ACT-{y}-{per_year[y]:04d}"
    g.acts = acts
    g.t["activities"] = acts


def lifecycle(g: Gen) -> None:
    today = g.today
    for a in g.acts:
        start, end = a["start_date"], a["end_date"]
        lead = (start - today).days
        r = g.r()
        close_day = None
        if start > today:
            if lead <= 12:
                stage = "客户确认" if r < 0.8 else "策划"
            elif lead <= 30:
                stage = "策划" if r < 0.7 else ("客户确认" if r < 0.85 else "立项申请")
            else:
                stage = "立项申请" if r < 0.6 else "策划"
        elif end >= today:
            stage = "执行"
        else:
            close_day = add_wd(g.office, end, g.ri(1, 9) if g.r() < 0.88 else g.ri(11, 25))
            if close_day >= today:
                stage = "结项验收"
            elif (today - end).days > 20:
                stage = "归档" if r < 0.9 else "结项验收"
            else:
                stage = "归档" if r < 0.5 else "结项验收"
        a["stage"] = stage
        si = STAGES.index(stage)
        a["_si"] = si
        initiation(g, a)
        if si == 0:
            continue
        stage_gates(g, a, close_day if stage == "归档" else None)
        documents(g, a)


def initiation(g: Gen, a: Row) -> None:
    title = f"{a['name']}立项申请"
    req = approvals.request(g, "立项", a["owner"], title, amount=a["budget"], activity=a)
    a["initiation_request"] = req
    if a["stage"] == "立项申请":
        r = g.r()
        if r < 0.6:
            approvals.pending(g, req, approvals.recent_open(g))
        elif r < 0.85:
            approvals.draft(g, req, g.limit - dt.timedelta(hours=g.u(2, 240)))
        else:
            approvals.decided(g, req, g.wt(g.today - dt.timedelta(days=g.ri(3, 15))), "已驳回")
        return
    sub = g.wt(a["start_date"] - dt.timedelta(days=g.ri(25, 50)))
    if sub >= g.limit - dt.timedelta(days=3):
        sub = g.wt(g.today - dt.timedelta(days=g.ri(4, 20)))
    approvals.decided(g, req, sub, "已通过")
    a["_approved"] = req["decided_at"]


def stage_gates(g: Gen, a: Row, close_day: dt.date | None) -> None:
    start, end, si, today = a["start_date"], a["end_date"], a["_si"], g.today
    dept, owner = a["department"], a["owner"]
    gates: list[Row] = []

    def gate(kind: str, due: dt.datetime, held: dt.datetime | None, mkind: str, title: str,
             cancelled: bool = False) -> None:
        gate_row = {"code": f"{a['code']}-G{len(gates) + 1}", "activity": a["code"], "gate": kind,
                    "owner": owner, "due_at": due, "status": "已取消" if cancelled else "待召开",
                    "escalation_level": 0}
        if held is not None:
            held = g.past(held)
            gate_row.update(held_at=held, status="已完成",
                            minutes=reports.meeting(g, mkind, title, held, dept, a))
        gates.append(gate_row)

    # kick-off: at least 5 workdays before the start
    kd = add_wd(g.office, start, -g.ri(5, 9)) if g.r() < 0.92 else add_wd(g.office, start, -g.ri(1, 4))
    held = None
    if kd < today and (si >= 3 or g.r() < 0.8):
        held = g.wt(kd, 9, 17)
        a["_kickoff"] = held
    gate("启动会", at_hour(add_wd(g.cal, start, -5), 18), held, "启动会", f"{a['name']}启动会")
    # mid-term reviews, quarterly, for long activities
    md = start + dt.timedelta(days=90)
    while md < end:
        held = None
        cancelled = False
        if md < today:
            r = g.r()
            if r < 0.9:
                held = g.wt(md - dt.timedelta(days=g.ri(0, 3)), 9, 17)
            elif r < 0.95:
                cancelled = True
        gate("中期评审", at_hour(md, 18), held, "中期评审", f"{a['name']}中期评审会", cancelled)
        md += dt.timedelta(days=90)
    # customer confirmation of the plan, before execution
    held = None
    if si >= 3:
        held = g.wt(add_wd(g.office, start, -g.ri(1, 4)), 10, 18)
        a["plan_confirmed_at"] = g.past(held)
    gate("客户确认", at_hour(add_wd(g.cal, start, -1), 18), held, "协调会", f"{a['name']}方案确认会")
    # closing acceptance within 10 workdays after the end
    held = g.wt(close_day, 9, 17) if close_day is not None else None
    gate("结项验收", at_hour(add_wd(g.cal, end, 10), 18), held, "结项验收", f"{a['name']}结项验收会")
    if held is not None:
        a["_close_held"] = g.past(held)
    if a["stage"] == "执行" and g.r() < 0.5:
        d = min(start + dt.timedelta(days=g.ri(0, 3)), today - DAY)
        if d >= start - dt.timedelta(days=3):
            reports.meeting(g, "协调会", f"{a['name']}现场协调会", g.wt(d, 9, 19, shift=False), dept, a)
    g.t["stage_gates"].extend(gates)


def documents(g: Gen, a: Row) -> None:
    today, start, end = g.today, a["start_date"], a["end_date"]
    approved = a.get("_approved")
    when = {
        "立项申请": approved.date() if approved else start - dt.timedelta(days=30),
        "策划": a["_kickoff"].date() if a.get("_kickoff") else start - dt.timedelta(days=20),
        "客户确认": a["plan_confirmed_at"].date() if a.get("plan_confirmed_at") else start - DAY * 3,
        "执行": start,
        "结项验收": a["_close_held"].date() if a.get("_close_held") else end + DAY * 3,
        "归档": a["_close_held"].date() + DAY * 2 if a.get("_close_held") else end + DAY * 10,
    }
    stages = [s for s in STAGES[: a["_si"] + 1] if when[s] < today]
    if not stages:
        return
    seq: dict[str, int] = {}
    for n in range(1, g.ri(2, 4) + 1):
        st = g.ch(stages)
        d = min(when[st], today - DAY)
        r = g.r()
        if r < 0.6:
            seq[st] = seq.get(st, 0) + 1
            nm, ok = f"{a['name']}-{st}-{seq[st]:02d}({d.isoformat()})", True
        elif r < 0.9:
            nm, ok = f"{a['name']}-{d.year}-{d.month:02d}V{g.ri(1, 3)}", True
        else:
            nm = g.ch(BAD_DOC_NAMES).format(name=a["name"], n=g.ri(1000, 9999))
            ok = False
        g.t["documents"].append({"code": f"{a['code']}-F{n:02d}", "activity": a["code"],
                                 "name": nm, "stage": st, "name_ok": ok})
