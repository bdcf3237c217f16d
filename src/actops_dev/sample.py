"""A realistic, deterministic sample company for the activity-operations bases.

``generate(today, scale, seed)`` returns rows per table name, keyed by the internal field
names of ``schema/*/*.yaml``. It is pure: no I/O, no clock (``today`` is the reference day;
"now" is taken as ``today`` 00:00 Asia/Shanghai, so everything that has happened lies before
it), and only ``random.Random(seed)`` as a source of randomness, so the same arguments always
give the same rows.

Tables whose rows are declared in YAML (settings, activity types, approval routes, KPI
definitions, grade bands) are referred to but not emitted; the calendar and everything flows
produce (outbox, run log, summaries, audit samples, evaluations) are left out too. What people
start those flows from is in: open evaluation cycles (HR adds one row per cycle), last
quarter's audit cycle with its findings, and the current one waiting to be sampled. Fields a flow
computes (``data_issue``, formulas, warning levels, variance, hashes, due times of approval
steps) are never written. An optional field without a value is simply absent from the row.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import random
from typing import Any

__all__ = ["generate"]

Row = dict[str, Any]
_DAY = dt.timedelta(days=1)
_H = dt.timedelta(hours=1)

STAGES = ("立项申请", "策划", "客户确认", "执行", "结项验收", "归档")
TYPES = ("市场推广", "客户交流", "团队建设", "培训", "销售", "技术")
TYPE_WEIGHTS = (25, 20, 12, 13, 18, 12)
ROLE_ORDER = ("员工", "主管", "部门负责人", "总监", "财务", "人事", "审计", "计划组", "总经理", "CEO")
CATEGORIES = ("策划", "场地", "设备", "物资", "人员", "餐饮", "交通", "宣传")
CATEGORY_WEIGHT = {"策划": 1.0, "场地": 2.0, "设备": 1.5, "物资": 1.0, "人员": 1.2,
                   "餐饮": 0.8, "交通": 0.5, "宣传": 1.5}

# Mirrors the rows of schema/actops/approvals.yaml (approval_routes): kind, min (incl.),
# max (excl.), approver roles in order.
ROUTES: tuple[tuple[str, float | None, float | None, tuple[str, ...]], ...] = (
    ("采购", None, None, ("部门负责人", "财务", "CEO")),
    ("成果报告", None, None, ("部门负责人", "财务", "CEO")),
    ("立项", None, None, ("部门负责人", "总经理")),
    ("计划调整", None, None, ("计划组", "部门负责人")),
    ("费用", None, 10000, ("主管",)),
    ("费用", 10000, 100000, ("主管", "财务")),
    ("费用", 100000, None, ("主管", "财务", "总监")),
    ("紧急采购", None, None, ("部门负责人", "财务", "CEO")),
)

# code, name, kind, parent, staff below the head at scale 1
DEPARTMENTS = (
    ("D01", "总经理办公室", "管理", None, 3),
    ("D02", "计划运营部", "管理", "D01", 9),
    ("D03", "市场部", "业务", "D01", 13),
    ("D04", "销售部", "业务", "D01", 13),
    ("D05", "内容部", "内容", "D01", 9),
    ("D06", "技术部", "业务", "D01", 9),
    ("D07", "财务部", "职能", "D01", 5),
    ("D08", "人力资源部", "职能", "D01", 4),
    ("D09", "审计部", "职能", "D01", 3),
    ("D10", "客户服务部", "业务", "D01", 7),
)
DEPT_NAME = {d[0]: d[1] for d in DEPARTMENTS}
HEAD_EXTRA = {"D03": ("总监",), "D04": ("总监",), "D06": ("总监",), "D07": ("财务",),
              "D08": ("人事",), "D09": ("审计",)}
MEMBER_ROLE = {"D07": "财务", "D08": "人事", "D09": "审计"}
TITLES = {
    "D01": ("总经理", "行政主管", ("总经理助理", "行政专员", "前台接待", "司机")),
    "D02": ("计划运营部经理", "计划主管", ("计划专员", "运营专员", "数据分析师", "项目协调员")),
    "D03": ("市场总监", "市场主管", ("市场专员", "品牌专员", "活动策划", "新媒体运营", "公关专员")),
    "D04": ("销售总监", "销售主管", ("客户经理", "销售代表", "大客户经理", "商务专员")),
    "D05": ("内容部经理", "内容主管", ("文案策划", "视觉设计师", "视频编导", "内容编辑", "摄影师")),
    "D06": ("技术总监", "技术主管", ("音视频工程师", "舞美工程师", "系统工程师", "直播技术员")),
    "D07": ("财务经理", "财务主管", ("会计", "出纳", "成本会计", "财务分析师")),
    "D08": ("人力资源经理", "人事主管", ("招聘专员", "培训专员", "薪酬绩效专员")),
    "D09": ("审计经理", "审计主管", ("内审专员", "审计专员")),
    "D10": ("客户服务部经理", "客服主管", ("客户服务专员", "客户成功经理", "售后专员")),
}
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
CITIES = ("上海", "北京", "深圳", "杭州", "广州", "成都", "南京", "苏州", "武汉", "西安", "重庆", "天津",
          "宁波", "厦门", "长沙", "青岛")
BRANDS = (("华信", "huaxin"), ("远景", "yuanjing"), ("宏图", "hongtu"), ("新锐", "xinrui"),
          ("恒通", "hengtong"), ("瑞丰", "ruifeng"), ("博奥", "boao"), ("中联", "zhonglian"),
          ("安泰", "antai"), ("嘉禾", "jiahe"), ("金桥", "jinqiao"), ("天成", "tiancheng"),
          ("明德", "mingde"), ("锦程", "jincheng"), ("汇达", "huida"), ("星辰", "xingchen"),
          ("云帆", "yunfan"), ("正源", "zhengyuan"), ("鼎盛", "dingsheng"), ("润泽", "runze"),
          ("凯越", "kaiyue"), ("蓝海", "lanhai"), ("盛世", "shengshi"), ("益康", "yikang"),
          ("优品", "youpin"), ("智联", "zhilian"), ("万象", "wanxiang"), ("悦家", "yuejia"),
          ("华美", "huamei"), ("同创", "tongchuang"))
INDUSTRIES = (("互联网", "网络科技", "tech"), ("汽车", "汽车销售服务", "auto"), ("快消品", "食品", "food"),
              ("金融", "投资管理", "invest"), ("医药健康", "医药", "pharma"), ("教育", "教育科技", "edu"),
              ("房地产", "置业", "estate"), ("制造业", "智能制造", "mfg"), ("零售", "商贸", "retail"),
              ("文旅", "文化旅游", "travel"))
SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁"
            "任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤")
GIVEN = ("子涵", "欣怡", "梓萱", "一诺", "雨轩", "思远", "嘉怡", "佳琪", "晨曦", "俊杰", "雅婷", "婉清", "晓东",
         "海峰", "春梅", "建国", "志强", "文斌", "宇航", "浩然", "明轩", "诗涵", "梦瑶", "晓燕", "丽华", "国平",
         "秀兰", "桂芳", "建华", "红梅", "立新", "振华", "丽娟", "文静", "海燕", "玉兰", "俊峰", "伟杰", "鹏飞",
         "天宇", "佳怡", "雨桐", "思琪", "博文", "昊天", "家豪", "志伟", "晓明", "慧敏", "婷婷", "颖", "静",
         "磊", "强", "洋", "勇", "军", "杰", "涛", "超", "敏", "丽", "艳", "娜", "芳", "伟", "鑫", "琳", "博",
         "亮", "倩", "帆", "欢", "宁", "凯", "晶", "斌", "辉", "霞", "刚")
MOBILE_PREFIXES = ("130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152",
                   "153", "155", "156", "157", "158", "159", "180", "181", "182", "183", "185", "186",
                   "187", "188", "189")
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
APPROVE_COMMENTS = ("同意。", "同意，注意控制成本。", "已核对预算，同意。", "同意，请按计划推进。",
                    "费用合理，同意。", "同意，执行中注意留存票据。")
REJECT_COMMENTS = ("预算超出年度计划，请重新评估。", "附件不全，请补充报价单后重新提交。",
                   "供应商比价不足三家，请补充比价材料。", "活动目标与部门计划不符，暂不同意。",
                   "费用归属科目有误，请修改后重新提交。")
LATE_REASONS = ("外出执行活动，现场网络不便，延后提交。", "客户临时加急需求，报告延后提交。",
                "出差途中，未能按时提交。", "身体不适请假一天，次日补交。", "系统登录异常，次日补交。",
                "等待财务数据核对后再提交。")
WORK_ITEMS = ("跟进客户需求并更新方案", "完成活动物料清单确认", "对接场地与供应商报价", "整理活动数据并输出复盘",
              "参加部门例会并落实待办", "协助完成活动现场执行", "完成宣传文案与海报审核", "更新项目进度表",
              "处理费用报销与票据整理", "准备下周客户拜访资料")
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
ACTION_TITLES = {
    "启动会": ("确认场地及供应商报价", "完成活动执行手册", "提交物料清单", "落实嘉宾邀请名单", "制定现场人员分工表"),
    "协调会": ("确认客户反馈的方案修改意见", "更新活动流程与时间表", "落实现场安全预案", "确认物料到场时间"),
    "中期评审": ("更新预算执行情况", "调整后续推广节奏", "补充风险应对措施"),
    "结项验收": ("提交结项报告与ROI分析", "完成供应商尾款结算", "整理活动影像资料归档", "完成客户满意度回访"),
    "例会": ("更新部门周计划", "跟进客户回款", "完成培训报名统计", "整理本周活动数据", "更新项目进度表"),
}
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
FEEDBACK = {
    5: ("活动组织非常专业，流程顺畅，效果超出预期。", "现场布置很用心，嘉宾反馈很好。", "服务响应及时，期待下次合作。"),
    4: ("整体满意，个别环节衔接可以更紧凑。", "活动效果不错，建议提前发布议程。", "执行到位，茶歇品类可以更丰富。"),
    3: ("活动基本达到预期，但签到排队时间较长。", "内容尚可，互动环节偏少。"),
    2: ("现场秩序较乱，音响效果较差。", "宣传物料与确认稿不一致。"),
    1: ("活动严重延误，体验很差。",),
}
BAD_DOC_NAMES = ("最终版方案(2).docx", "新建 Microsoft Word 文档.docx", "活动方案终稿改.pptx",
                 "报价单-最新.xlsx", "会议记录 副本.docx", "{name}方案最终版.pdf", "{name}_v2_修改稿.docx",
                 "IMG_{n}.jpg")


def generate(today: dt.date, scale: int = 1, seed: int = 20261122) -> dict[str, list[dict]]:
    """Rows per table name, keyed by internal field names (see schema/*/*.yaml `name:`)."""
    if isinstance(today, dt.datetime):
        today = today.date()
    return _Gen(today, max(1, int(scale)), seed).run()


# ---------------------------------------------------------------- time helpers


def _ts(t: dt.datetime) -> str:
    return t.strftime("%Y-%m-%d %H:%M:%S+08:00")


def _add_wd(d: dt.date, n: int) -> dt.date:
    """``n`` workdays (Mon–Fri) after ``d`` (before it when negative)."""
    step = 1 if n >= 0 else -1
    while n:
        d += _DAY * step
        if d.weekday() < 5:
            n -= step
    return d


def _monday(d: dt.date) -> dt.date:
    return d - dt.timedelta(days=d.weekday())


def _month_add(d: dt.date, months: int) -> dt.date:
    m = d.year * 12 + d.month - 1 + months
    return dt.date(m // 12, m % 12 + 1, 1)


def _at(d: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(d.year, d.month, d.day, hour, minute)


def _route(kind: str, amount: float | None) -> tuple[str, ...]:
    for k, lo, hi, roles in ROUTES:
        if k != kind:
            continue
        a = amount or 0
        if (lo is None or a >= lo) and (hi is None or a < hi):
            return roles
    raise ValueError(f"no route for {kind} {amount}")


# ---------------------------------------------------------------- the generator


class _Gen:
    def __init__(self, today: dt.date, scale: int, seed: int) -> None:
        self.today = today
        self.scale = scale
        self.rng = random.Random(seed)
        self.r = self.rng.random
        self.ri = self.rng.randint
        self.u = self.rng.uniform
        self.ch = self.rng.choice
        self.now = dt.datetime.combine(today, dt.time())
        self.limit = self.now - dt.timedelta(minutes=20)
        self.t: dict[str, list[Row]] = {n: [] for n in (
            "departments", "employees", "customers", "activities", "approval_requests",
            "approval_steps", "approval_decisions", "stage_gates", "documents", "reports",
            "meetings", "action_items", "kpi_results", "budget_lines", "expenses", "risks",
            "risk_history", "feedback", "plans", "plan_tasks", "problems", "eval_cycles",
            "audit_cycles", "audit_findings")}
        self.requests: list[Row] = []
        self.meetings: list[Row] = []
        self._expense_n = itertools.count()
        self._surname_cum = list(itertools.accumulate(1.0 / (i + 8) for i in range(len(SURNAMES))))

    # ------------------------------------------------------------ small helpers

    def wt(self, d: dt.date, h0: int = 9, h1: int = 18, shift: bool = True) -> dt.datetime:
        """A working-hours time on ``d`` (a weekend moves to the Friday before)."""
        if shift and d.weekday() >= 5:
            d -= dt.timedelta(days=d.weekday() - 4)
        return dt.datetime(d.year, d.month, d.day, self.ri(h0, h1 - 1), self.ri(0, 59), self.ri(0, 59))

    def past(self, t: dt.datetime, fallback_hours: float = 6) -> dt.datetime:
        """``t`` if it lies before now, else a time in the last ``fallback_hours``."""
        if t < self.limit:
            return t
        return self.limit - dt.timedelta(hours=self.u(0.5, fallback_hours))

    def after(self, t: dt.datetime, hours: float) -> dt.datetime:
        t2 = t + dt.timedelta(hours=hours)
        if t2.weekday() >= 5 or t2.hour >= 20 or t2.hour < 8:
            d = t2.date()
            if t2.hour >= 20 or t2.weekday() >= 5:
                d += _DAY
            while d.weekday() >= 5:
                d += _DAY
            t2 = dt.datetime(d.year, d.month, d.day, self.ri(9, 11), self.ri(0, 59), self.ri(0, 59))
        return t2.replace(microsecond=0)

    def delay_h(self) -> float:
        r = self.r()
        if r < 0.6:
            return self.u(0.3, 8)
        if r < 0.92:
            return self.u(8, 48)
        return self.u(48, 120)

    def name(self) -> str:
        s = self.rng.choices(SURNAMES, cum_weights=self._surname_cum)[0]
        return s + self.ch(GIVEN)

    def mobile(self) -> str:
        while True:
            m = self.ch(MOBILE_PREFIXES) + f"{self.ri(0, 99_999_999):08d}"
            if m not in self._mobiles:
                self._mobiles.add(m)
                return m

    def worker(self, dept: str) -> str:
        return self.ch(self.workers[dept])

    # ------------------------------------------------------------ run

    def run(self) -> dict[str, list[dict]]:
        self._mobiles: set[str] = set()
        self.org()
        self.customers()
        self.activities()
        self.lifecycle()
        self.finance()
        self.other_requests()
        self.emergencies()
        self.risks()
        self.feedback()
        self.weekly_meetings()
        self.reports()
        self.kpis()
        self.plans()
        self.problems()
        self.number_requests()
        self.number_meetings()
        self.cycles()
        return self.finish()

    def finish(self) -> dict[str, list[dict]]:
        out: dict[str, list[dict]] = {}
        for name, rows in self.t.items():
            clean = []
            for row in rows:
                r: dict[str, Any] = {}
                for k, v in row.items():
                    if v is None or k[0] == "_":
                        continue
                    if isinstance(v, dict):
                        v = v["code"]
                    elif isinstance(v, dt.datetime):
                        v = _ts(v)
                    elif isinstance(v, dt.date):
                        v = v.isoformat()
                    r[k] = v
                clean.append(r)
            out[name] = clean
        return out

    # ------------------------------------------------------------ org

    def org(self) -> None:
        s = self.scale
        emps: list[Row] = []
        used: set[str] = set()

        def add(dept: str, roles: list[str], title: str, manager: str | None) -> Row:
            while True:
                nm = self.name()
                if nm not in used:
                    used.add(nm)
                    break
            code = f"E{len(emps) + 1:04d}"
            row = {"code": code, "name": nm, "department": dept, "manager": manager,
                   "_roles": set(roles), "title": title}
            emps.append(row)
            return row

        gm = add("D01", ["部门负责人", "总经理", "CEO"], "总经理", None)
        self.gm = gm["code"]
        coo = add("D01", ["总监"], "运营总监", gm["code"])
        heads = {"D01": gm}
        sups_by_dept: dict[str, list[Row]] = {"D01": []}
        for _ in range(2 * s):
            add("D01", ["员工"], self.ch(TITLES["D01"][2]), gm["code"])
        for code, _name, _kind, _parent, base in DEPARTMENTS[1:]:
            head = add(code, ["部门负责人", *HEAD_EXTRA.get(code, ())], TITLES[code][0], gm["code"])
            heads[code] = head
            n = base * s
            n_sup = 0 if n < 4 else max(1, round(n / 6))
            extra = [MEMBER_ROLE[code]] if code in MEMBER_ROLE else []
            plan = ["计划组"] if code == "D02" else []
            sups = [add(code, ["主管", *extra, *plan], TITLES[code][1], head["code"]) for _ in range(n_sup)]
            sups_by_dept[code] = sups
            n_plan = max(2, round((n - n_sup) * 0.4)) if code == "D02" else 0
            for i in range(n - n_sup):
                mgr = sups[i % len(sups)]["code"] if sups else head["code"]
                roles = ["员工", *extra, *(["计划组"] if i < n_plan else [])]
                add(code, roles, self.ch(TITLES[code][2]), mgr)

        plain = [e for e in emps if e["_roles"] == {"员工"} and e["department"] in ("D03", "D04", "D05", "D06", "D10")]
        inactive = {e["code"] for e in self.rng.sample(plain, 3 * s)}
        supervisors = [e for e in emps if "主管" in e["_roles"]]
        on_leave = {e["code"] for e in self.rng.sample(supervisors, min(len(supervisors), 1 + s))}
        for e in emps:
            c = e["code"]
            lc = c.lower()
            r = self.r()
            e.update({
                "roles": ",".join(x for x in ROLE_ORDER if x in e["_roles"]),
                "email": f"{lc}@actops.example",
                "wecom_id": f"wx_{lc}",
                "mobile": self.mobile(),
                "channel": "邮件" if r < 0.7 else ("企业微信" if r < 0.9 else "邮件和企业微信"),
                "locale": "en" if self.r() < 0.05 else "zh-CN",
                "active": c not in inactive,
                "late_streak": 0,
            })
            if c in on_leave:
                e["on_leave_until"] = self.today + dt.timedelta(days=self.ri(3, 12))
            if "部门负责人" in e["_roles"]:
                sups = sups_by_dept.get(e["department"]) or []
                e["deputy"] = sups[0]["code"] if sups else coo["code"]
            elif "主管" in e["_roles"]:
                e["deputy"] = heads[e["department"]]["code"]
        self.emp = {e["code"]: e for e in emps}
        self.t["employees"] = emps
        self.heads = {d: h["code"] for d, h in heads.items()}
        active = [e for e in emps if e["active"]]
        self.active = [e["code"] for e in active]
        self.workers = {d[0]: [e["code"] for e in active if e["department"] == d[0]
                               and "部门负责人" not in e["_roles"]] for d in DEPARTMENTS}
        self.finance_staff = [e["code"] for e in active if "财务" in e["_roles"]]
        self.directors = [e["code"] for e in active if "总监" in e["_roles"]]
        self.planners = [e["code"] for e in active if "计划组" in e["_roles"]]
        self.on_leave = on_leave
        for code, name, kind, parent, _base in DEPARTMENTS:
            self.t["departments"].append({"code": code, "name": name, "parent": parent,
                                          "head": self.heads[code], "kind": kind})

    # ------------------------------------------------------------ customers

    def customers(self) -> None:
        used: set[str] = set()
        managers = self.workers["D04"] + self.workers["D10"]
        self.customer_rows = []
        for i in range(40 * self.scale):
            while True:
                city, (brand, slug), (ind, suffix, islug) = (
                    self.ch(CITIES), self.ch(BRANDS), self.ch(INDUSTRIES))
                nm = f"{city}{brand}{suffix}有限公司"
                if nm not in used:
                    used.add(nm)
                    break
            row = {"code": f"C{i + 1:04d}", "name": nm, "industry": ind, "contact_name": self.name(),
                   "contact_phone": self.mobile(),
                   "contact_email": f"{self.ch(('market', 'pr', 'events', 'service', 'info', 'biz'))}"
                                    f"@{slug}-{islug}.example.cn",
                   "account_manager": self.ch(managers), "_brand": brand}
            self.customer_rows.append(row)
        self.t["customers"] = self.customer_rows

    # ------------------------------------------------------------ activities

    def duration(self, typ: str) -> int:
        r, ri = self.r(), self.ri
        if typ in ("客户交流", "团队建设"):
            return ri(1, 3) if r < 0.9 else ri(4, 20)
        if typ == "培训":
            return ri(1, 5) if r < 0.8 else ri(20, 60)
        if typ == "市场推广":
            return ri(1, 5) if r < 0.65 else (ri(14, 60) if r < 0.93 else ri(91, 180))
        if typ == "销售":
            return ri(1, 7) if r < 0.7 else (ri(20, 80) if r < 0.94 else ri(91, 150))
        return ri(2, 20) if r < 0.7 else (ri(21, 80) if r < 0.9 else ri(91, 200))

    def activities(self) -> None:
        today = self.today
        acts: list[Row] = []
        names_seen: dict[str, int] = {}
        for i in range(320 * self.scale):
            typ = self.rng.choices(TYPES, weights=TYPE_WEIGHTS)[0]
            depts, weights = zip(*TYPE_DEPTS[typ], strict=True)
            dept = self.rng.choices(depts, weights=weights)[0]
            dur = self.duration(typ)
            r = self.r()
            if r < 0.78:
                start = today - dt.timedelta(days=self.ri(20, 365))
            elif r < 0.87:
                start = today - dt.timedelta(days=self.ri(0, 30))
                if start + dt.timedelta(days=dur - 1) < today:
                    dur = (today - start).days + self.ri(1, 10)
            else:
                start = today + dt.timedelta(days=self.ri(1, 14) if self.r() < 0.35 else self.ri(15, 75))
            end = start + dt.timedelta(days=dur - 1)
            customer = self.ch(self.customer_rows) if self.r() < TYPE_CUSTOMER_P[typ] else None
            base = self.ch(ACT_NAMES[typ])
            pr = self.r()
            if customer is not None and pr < 0.3:
                nm = customer["_brand"] + base
            elif pr < 0.55:
                nm = SEASONS[start.month] + base
            elif pr < 0.85:
                nm = self.ch(REGIONS) + base
            elif typ in ("团队建设", "培训"):
                nm = DEPT_NAME[dept] + base
            else:
                nm = f"{start.year}年{base}"
            k = names_seen.get(nm, 0) + 1
            names_seen[nm] = k
            if k > 1:
                nm = f"{nm}第{k}期"
            lo, hi = TYPE_BUDGET[typ]
            budget = math.exp(self.u(math.log(lo), math.log(hi))) * (1.5 if dur > 60 else 1)
            budget = int(round(budget, -3))
            acts.append({
                "code": None, "name": nm, "type": typ, "stage": None, "department": dept,
                "owner": self.worker(dept), "customer": customer,
                "content": f"拟于{self.ch(CITIES)}{self.ch(VENUES)}举办，预计参与{self.ri(3, 60) * 10}人。"
                           f"{TYPE_CONTENT[typ]}",
                "start_date": start, "end_date": end, "budget": budget, "_i": i,
            })
        acts.sort(key=lambda a: (a["start_date"], a["end_date"], a["_i"]))
        per_year: dict[int, int] = {}
        for a in acts:
            y = a["start_date"].year
            per_year[y] = per_year.get(y, 0) + 1
            a["code"] = f"ACT-{y}-{per_year[y]:04d}"
        self.acts = acts
        self.t["activities"] = acts

    # ------------------------------------------------------------ approvals

    def assignee(self, role: str, applicant: Row) -> str:
        me = applicant["code"]
        if role == "主管":
            return applicant["manager"] or self.gm
        if role == "部门负责人":
            head = self.heads[applicant["department"]]
            return head if head != me else (applicant["manager"] or self.gm)
        if role == "财务":
            return self.ch([c for c in self.finance_staff if c != me])
        if role == "总监":
            return self.ch([c for c in self.directors if c != me])
        if role == "计划组":
            return self.ch([c for c in self.planners if c != me])
        return self.gm  # 总经理, CEO

    def request(self, kind: str, applicant: str, title: str, *, amount: float | None = None,
                activity: Row | None = None, emergency_by: str | None = None) -> Row:
        emp = self.emp[applicant]
        roles = _route(kind, amount)
        req = {"code": None, "kind": kind, "title": title,
               "activity": activity["code"] if activity else None, "applicant": applicant,
               "department": emp["department"], "amount": amount, "status": "草稿",
               "emergency": emergency_by is not None, "emergency_by": emergency_by,
               "escalation_level": 0, "_roles": roles,
               "_assignees": [self.assignee(role, emp) for role in roles], "_steps": []}
        self.requests.append(req)
        return req

    def draft(self, req: Row, created: dt.datetime) -> Row:
        req["status"] = "草稿"
        req["_t"] = self.past(created)
        return req

    def _step(self, req: Row, i: int) -> Row:
        st = {"code": None, "request": req, "seq": i + 1, "role": req["_roles"][i],
              "assignee": req["_assignees"][i], "status": "未开始", "posthoc": req["emergency"],
              "escalation_level": 0}
        req["_steps"].append(st)
        return st

    def decided(self, req: Row, submitted: dt.datetime, outcome: str) -> Row:
        """A request that has ended: 已通过, 已驳回 or 已撤回, submitted at ``submitted``."""
        n = len(req["_roles"])
        if submitted >= self.limit - 2 * _H:
            submitted = self.limit - dt.timedelta(hours=self.u(30, 90))
        j = n if outcome == "已通过" else self.ri(0, n - 1)
        m = n if outcome == "已通过" else j + 1
        times: list[dt.datetime] = []
        t = submitted
        for _ in range(m):
            t = self.after(t, self.delay_h())
            times.append(t)
        if times[-1] >= self.limit:
            span = (self.limit - submitted) * self.u(0.5, 0.95)
            total = times[-1] - submitted
            times = [(submitted + (x - submitted) * (span / total)).replace(microsecond=0) for x in times]
        prev = submitted
        for i in range(n):
            st = self._step(req, i)
            if i < j:
                st.update(status="已通过", opened_at=prev, decided_at=times[i])
                prev = times[i]
            elif i == j:
                st["opened_at"] = prev
                if outcome == "已驳回":
                    st.update(status="已驳回", decided_at=times[i])
                else:
                    st["status"] = "已跳过"
                    req["_withdrawn"] = (st, times[i])
            else:
                st["status"] = "已跳过"
        req.update(status=outcome, submitted_at=submitted, decided_at=times[-1], _t=submitted)
        return req

    def pending(self, req: Row, opened: dt.datetime, k: int | None = None,
                submitted: dt.datetime | None = None) -> Row:
        """A request in approval whose step ``k`` (0-based) has been open since ``opened``."""
        n = len(req["_roles"])
        opened = self.past(opened)
        if k is None:
            k = self.ri(0, n - 1)
        if k == 0:
            submitted = opened if submitted is None else submitted
            times: list[dt.datetime] = []
        elif submitted is not None and submitted < opened:
            times = sorted(submitted + (opened - submitted) * self.r() for _ in range(k - 1))
            times = [x.replace(microsecond=0) for x in times] + [opened]
        else:
            times = [opened]
            for _ in range(k - 1):
                times.insert(0, times[0] - dt.timedelta(hours=self.delay_h()))
            submitted = times[0] - dt.timedelta(hours=self.delay_h())
            office = self.wt(submitted.date())  # submitted in office hours that day
            submitted = office if office < times[0] else submitted.replace(microsecond=0)
        prev = submitted
        for i in range(n):
            st = self._step(req, i)
            if i < k:
                st.update(status="已通过", opened_at=prev, decided_at=times[i])
                prev = times[i]
            elif i == k:
                st.update(status="待审批", opened_at=prev)
                if st["assignee"] in self.on_leave:
                    st["delegate"] = self.emp[st["assignee"]].get("deputy")
        req.update(status="审批中", submitted_at=submitted, _t=submitted)
        return req

    def recent_open(self) -> dt.datetime:
        """When a pending step opened: mostly within the SLA, some long overdue."""
        hours = self.u(1, 40) if self.r() < 0.65 else self.u(72, 400)
        return self.wt((self.limit - dt.timedelta(hours=hours)).date())

    def number_requests(self) -> None:
        reqs = sorted(self.requests, key=lambda q: q["_t"])
        steps, decisions = self.t["approval_steps"], self.t["approval_decisions"]
        for n, req in enumerate(reqs, 1):
            code = f"AP-{n:06d}"
            req["code"] = code
            if req["emergency"]:
                decisions.append({"code": f"{code}-E", "request": req, "decision": "特批",
                                  "by": req["emergency_by"], "at": req["submitted_at"],
                                  "comment": "情况紧急，同意先行采购，请于3个工作日内补办完整审批手续。"})
            for st in req["_steps"]:
                st["code"] = f"{code}-S{st['seq']}"
                steps.append(st)
                if st["status"] in ("已通过", "已驳回"):
                    ok = st["status"] == "已通过"
                    decisions.append({"code": f"{st['code']}-D", "request": req, "step": st,
                                      "decision": "通过" if ok else "驳回", "by": st["assignee"],
                                      "at": st["decided_at"],
                                      "comment": self.ch(APPROVE_COMMENTS if ok else REJECT_COMMENTS)})
            if "_withdrawn" in req:
                st, at = req["_withdrawn"]
                decisions.append({"code": f"{code}-W", "request": req, "step": st, "decision": "撤回",
                                  "by": req["applicant"], "at": at, "comment": "方案调整，撤回申请。"})
        self.t["approval_requests"] = reqs

    # ------------------------------------------------------------ lifecycle

    def lifecycle(self) -> None:
        today = self.today
        for a in self.acts:
            start, end = a["start_date"], a["end_date"]
            lead = (start - today).days
            r = self.r()
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
                close_day = _add_wd(end, self.ri(1, 9) if self.r() < 0.88 else self.ri(11, 25))
                if close_day >= today:
                    stage = "结项验收"
                elif (today - end).days > 20:
                    stage = "归档" if r < 0.9 else "结项验收"
                else:
                    stage = "归档" if r < 0.5 else "结项验收"
            a["stage"] = stage
            si = STAGES.index(stage)
            a["_si"] = si
            self.initiation(a)
            if si == 0:
                continue
            self.gates(a, close_day if stage == "归档" else None)
            self.documents(a)

    def initiation(self, a: Row) -> None:
        title = f"{a['name']}立项申请"
        req = self.request("立项", a["owner"], title, amount=a["budget"], activity=a)
        a["initiation_request"] = req
        if a["stage"] == "立项申请":
            r = self.r()
            if r < 0.6:
                self.pending(req, self.recent_open())
            elif r < 0.85:
                self.draft(req, self.limit - dt.timedelta(hours=self.u(2, 240)))
            else:
                self.decided(req, self.wt(self.today - dt.timedelta(days=self.ri(3, 15))), "已驳回")
            return
        sub = self.wt(a["start_date"] - dt.timedelta(days=self.ri(25, 50)))
        if sub >= self.limit - dt.timedelta(days=3):
            sub = self.wt(self.today - dt.timedelta(days=self.ri(4, 20)))
        self.decided(req, sub, "已通过")
        a["_approved"] = req["decided_at"]

    def meeting(self, kind: str, title: str, held: dt.datetime, dept: str,
                activity: Row | None = None) -> Row:
        m = {"code": None, "activity": activity["code"] if activity else None, "title": title,
             "kind": kind, "held_at": held, "recorder": self.worker(dept),
             "minutes_due_at": held + 24 * _H, "escalation_level": 0, "_items": []}
        r = self.r()
        if r < 0.88:
            sub = held + dt.timedelta(hours=self.u(0.5, 6) if r < 0.6 else self.u(16, 23))
        elif r < 0.95:
            sub = held + dt.timedelta(hours=self.u(25, 72))
        else:
            sub = None
        if sub is not None and sub >= self.limit:
            sub = None
        m["minutes_submitted_at"] = sub.replace(microsecond=0) if sub else None
        if sub is not None:
            lo, hi = {"启动会": (1, 3), "中期评审": (1, 2), "结项验收": (1, 2)}.get(kind, (0, 2))
            lines = []
            for t in self.rng.sample(ACTION_TITLES[kind], self.ri(lo, hi)):
                owner = self.worker(dept)
                due = held.date() + dt.timedelta(days=self.ri(2, 14))
                item = {"code": None, "meeting": m, "activity": m["activity"], "title": t,
                        "owner": owner, "department": self.emp[owner]["department"],
                        "due_date": due, "escalation_level": 0}
                self.item_status(item, held)
                m["_items"].append(item)
                lines.append(f"{len(lines) + 1}. {t}（负责人：{self.emp[owner]['name']}，截止：{due.isoformat()}）")
            m["decisions"] = "\n".join(lines) if lines else "通报工作进展，无新增待办事项。"
        self.meetings.append(m)
        return m

    def item_status(self, item: Row, held: dt.datetime) -> None:
        due, today = item["due_date"], self.today
        r = self.r()
        if due < today:
            status = "已完成" if r < 0.8 else ("已取消" if r < 0.85 else self.ch(("未开始", "进行中")))
        else:
            status = "未开始" if r < 0.4 else ("进行中" if r < 0.8 else "已完成")
        if status == "已完成":
            lo = held.date() + _DAY
            hi = min(due + dt.timedelta(days=self.ri(1, 4) if self.r() < 0.1 else 0), today - _DAY)
            if lo > hi:
                status = "进行中"
            else:
                item["done_at"] = self.wt(lo + dt.timedelta(days=self.ri(0, (hi - lo).days)), shift=False)
        item["status"] = status

    def number_meetings(self) -> None:
        self.meetings.sort(key=lambda m: (m["held_at"], m["title"]))
        items = self.t["action_items"]
        for n, m in enumerate(self.meetings, 1):
            m["code"] = f"MT-{n:06d}"
            for it in m["_items"]:
                it["code"] = f"AI-{len(items) + 1:06d}"
                items.append(it)
        self.t["meetings"] = self.meetings

    def gates(self, a: Row, close_day: dt.date | None) -> None:
        start, end, si, today = a["start_date"], a["end_date"], a["_si"], self.today
        dept, owner = a["department"], a["owner"]
        gates: list[Row] = []

        def gate(kind: str, due: dt.datetime, held: dt.datetime | None, mkind: str, title: str,
                 cancelled: bool = False) -> None:
            g = {"code": f"{a['code']}-G{len(gates) + 1}", "activity": a["code"], "gate": kind,
                 "owner": owner, "due_at": due, "status": "已取消" if cancelled else "待召开",
                 "escalation_level": 0}
            if held is not None:
                held = self.past(held)
                g.update(held_at=held, status="已完成",
                         minutes=self.meeting(mkind, title, held, dept, a))
            gates.append(g)

        # kick-off: at least 5 workdays before the start
        kd = _add_wd(start, -self.ri(5, 9)) if self.r() < 0.92 else _add_wd(start, -self.ri(1, 4))
        held = None
        if kd < today and (si >= 3 or self.r() < 0.8):
            held = self.wt(kd, 9, 17)
            a["_kickoff"] = held
        gate("启动会", _at(_add_wd(start, -5), 18), held, "启动会", f"{a['name']}启动会")
        # mid-term reviews, quarterly, for long activities
        md = start + dt.timedelta(days=90)
        while md < end:
            held = None
            cancelled = False
            if md < today:
                r = self.r()
                if r < 0.9:
                    held = self.wt(md - dt.timedelta(days=self.ri(0, 3)), 9, 17)
                elif r < 0.95:
                    cancelled = True
            gate("中期评审", _at(md, 18), held, "中期评审", f"{a['name']}中期评审会", cancelled)
            md += dt.timedelta(days=90)
        # customer confirmation of the plan, before execution
        held = None
        if si >= 3:
            held = self.wt(_add_wd(start, -self.ri(1, 4)), 10, 18)
            a["plan_confirmed_at"] = self.past(held)
        gate("客户确认", _at(_add_wd(start, -1), 18), held, "协调会", f"{a['name']}方案确认会")
        # closing acceptance within 10 workdays after the end
        held = self.wt(close_day, 9, 17) if close_day is not None else None
        gate("结项验收", _at(_add_wd(end, 10), 18), held, "结项验收", f"{a['name']}结项验收会")
        if held is not None:
            a["_close_held"] = self.past(held)
        if a["stage"] == "执行" and self.r() < 0.5:
            d = min(start + dt.timedelta(days=self.ri(0, 3)), today - _DAY)
            if d >= start - dt.timedelta(days=3):
                self.meeting("协调会", f"{a['name']}现场协调会", self.wt(d, 9, 19, shift=False), dept, a)
        self.t["stage_gates"].extend(gates)

    def documents(self, a: Row) -> None:
        today, start, end = self.today, a["start_date"], a["end_date"]
        approved = a.get("_approved")
        when = {
            "立项申请": approved.date() if approved else start - dt.timedelta(days=30),
            "策划": a["_kickoff"].date() if a.get("_kickoff") else start - dt.timedelta(days=20),
            "客户确认": a["plan_confirmed_at"].date() if a.get("plan_confirmed_at") else start - _DAY * 3,
            "执行": start,
            "结项验收": a["_close_held"].date() if a.get("_close_held") else end + _DAY * 3,
            "归档": a["_close_held"].date() + _DAY * 2 if a.get("_close_held") else end + _DAY * 10,
        }
        stages = [s for s in STAGES[: a["_si"] + 1] if when[s] < today]
        if not stages:
            return
        seq: dict[str, int] = {}
        for n in range(1, self.ri(2, 4) + 1):
            st = self.ch(stages)
            d = min(when[st], today - _DAY)
            r = self.r()
            if r < 0.6:
                seq[st] = seq.get(st, 0) + 1
                nm, ok = f"{a['name']}-{st}-{seq[st]:02d}({d.isoformat()})", True
            elif r < 0.9:
                nm, ok = f"{a['name']}-{d.year}-{d.month:02d}V{self.ri(1, 3)}", True
            else:
                nm = self.ch(BAD_DOC_NAMES).format(name=a["name"], n=self.ri(1000, 9999))
                ok = False
            self.t["documents"].append({"code": f"{a['code']}-F{n:02d}", "activity": a["code"],
                                        "name": nm, "stage": st, "name_ok": ok})

    # ------------------------------------------------------------ finance

    def finance(self) -> None:
        today = self.today
        expenses: list[Row] = []
        for a in self.acts:
            si = a["_si"]
            if si == 0:
                continue
            start, end, budget = a["start_date"], a["end_date"], a["budget"]
            cats = sorted(self.rng.sample(CATEGORIES, self.ri(3, 5)), key=CATEGORIES.index)
            ws = [CATEGORY_WEIGHT[c] * self.u(0.5, 1.5) for c in cats]
            amounts = [int(round(budget * w / sum(ws), -2)) for w in ws]
            amounts[-1] = budget - sum(amounts[:-1])
            if si >= 3:
                lo = start - dt.timedelta(days=15)
                hi = min(end + dt.timedelta(days=10), today - _DAY)
                progress = 1.0 if si >= 4 else min(0.9, max(0.3, ((today - start).days + 1) / ((end - start).days + 1)))
            else:
                lo = max(today - dt.timedelta(days=30), start - dt.timedelta(days=45))
                hi = today - _DAY
                progress = 0.0
            total_spent = 0.0
            for n, (cat, amount) in enumerate(zip(cats, amounts, strict=True), 1):
                line = {"code": f"{a['code']}-B{n}", "activity": a["code"], "category": cat,
                        "amount": amount}
                if progress > 0:
                    r = self.r()
                    if r < 0.09:
                        ratio = self.u(1.02, 1.3)
                    elif r < 0.22:
                        ratio = self.u(0.8, 0.99)
                    else:
                        ratio = self.u(0.3, 0.79) * progress
                elif self.r() < 0.25:
                    ratio = self.u(0.1, 0.3)
                else:
                    ratio = 0.0
                target = round(amount * ratio, 2)
                spent = 0.0
                if target > 0 and lo <= hi:
                    k = 1 if target < 3000 or progress == 0 else self.ri(1, 3)
                    parts = [self.u(0.5, 1.5) for _ in range(k)]
                    vals = [round(target * p / sum(parts), 2) for p in parts]
                    vals[-1] = round(target - sum(vals[:-1]), 2)
                    for v in vals:
                        if v <= 0:
                            continue
                        on = lo + dt.timedelta(days=self.ri(0, (hi - lo).days))
                        status = "已支付" if on < today - dt.timedelta(days=15) and self.r() < 0.9 else "已批准"
                        expenses.append(self.expense(a, cat, v, on, status))
                        spent += v
                    # now and then a rejected claim, or one still awaiting approval
                    if self.r() < 0.05:
                        on = lo + dt.timedelta(days=self.ri(0, (hi - lo).days))
                        expenses.append(self.expense(a, cat, round(amount * self.u(0.05, 0.3), 2), on, "已驳回"))
                    p_lo = max(lo, today - dt.timedelta(days=10))
                    if p_lo <= hi and self.r() < 0.15:
                        on = p_lo + dt.timedelta(days=self.ri(0, (hi - p_lo).days))
                        expenses.append(self.expense(a, cat, round(amount * self.u(0.03, 0.2), 2), on, "待审批"))
                line["spent"] = round(spent, 2)
                total_spent += spent
                self.t["budget_lines"].append(line)
            if si >= 4:
                a["actual_cost"] = round(total_spent, 2)
        expenses.sort(key=lambda e: (e["spent_on"], e["_n"]))
        for n, e in enumerate(expenses, 1):
            e["code"] = f"EX-{n:06d}"
        self.t["expenses"] = expenses
        # closing of archived activities: outcome report, closed_at, ROI
        for a in self.acts:
            if a["stage"] == "归档":
                held = a["_close_held"]
                if self.r() < 0.8:
                    req = self.request("成果报告", a["owner"], f"{a['name']}活动成果报告", activity=a)
                    self.decided(req, self.after(held, self.u(2, 30)), "已通过")
                    closed = req["decided_at"] + dt.timedelta(hours=self.u(1, 24))
                else:
                    closed = held + dt.timedelta(hours=self.u(2, 60))
                a["closed_at"] = self.past(closed.replace(microsecond=0))
                hi = 3.5 if a["type"] in ("销售", "市场推广", "客户交流") else 1.2
                a["roi"] = round(self.u(-0.3, hi), 2)
            elif a["stage"] == "结项验收" and self.r() < 0.7:
                req = self.request("成果报告", a["owner"], f"{a['name']}活动成果报告", activity=a)
                r = self.r()
                if r < 0.65:
                    self.pending(req, self.recent_open())
                elif r < 0.85:
                    self.draft(req, self.limit - dt.timedelta(hours=self.u(2, 200)))
                else:
                    self.decided(req, self.wt(a["end_date"] + dt.timedelta(days=self.ri(1, 5))), "已驳回")

    def expense(self, a: Row, cat: str, amount: float, on: dt.date, status: str) -> Row:
        emp = a["owner"] if self.r() < 0.6 else self.worker(a["department"])
        e = {"code": None, "activity": a["code"], "category": cat, "amount": amount, "spent_on": on,
             "employee": emp, "description": self.ch(EXPENSE_DESC[cat]), "status": status,
             "_n": next(self._expense_n)}
        if self.r() < (0.6 if status == "待审批" else 0.25):
            req = self.request("费用", emp, f"{a['name']}{cat}费用报销", amount=amount, activity=a)
            sub = self.wt(on + dt.timedelta(days=self.ri(0, 4)))
            if status == "待审批":
                sub = self.past(sub, 48)
                opened = sub + dt.timedelta(hours=self.u(0, max(0.0, (self.limit - sub).total_seconds() / 3600)))
                self.pending(req, opened, submitted=sub)
            else:
                self.decided(req, sub, "已驳回" if status == "已驳回" else "已通过")
            e["request"] = req
        return e

    # ------------------------------------------------------------ other requests

    def other_requests(self) -> None:
        today = self.today
        for a in self.acts:
            if a["_si"] < 2 or self.r() >= 0.35:
                continue
            amount = float(round(a["budget"] * self.u(0.15, 0.6), -2))
            req = self.request("采购", a["owner"], f"{a['name']}物资及服务采购", amount=amount, activity=a)
            sub = self.wt(a["start_date"] - dt.timedelta(days=self.ri(5, 20)))
            if sub > self.now - dt.timedelta(days=5):
                self.pending(req, self.recent_open())
                continue
            r = self.r()
            if r < 0.82:
                self.decided(req, sub, "已通过")
            elif r < 0.9:
                self.decided(req, sub, "已驳回")
            elif r < 0.96:
                self.decided(req, sub, "已撤回")
            else:
                self.draft(req, sub)
        # plan adjustments (PLN-1 via APR)
        for _ in range(12 * self.scale):
            dept = self.ch([d[0] for d in DEPARTMENTS[1:]])
            applicant = self.worker(dept)
            title = f"{DEPT_NAME[dept]}{self.ch(DEPT_TASKS[dept])}计划调整申请"
            req = self.request("计划调整", applicant, title)
            sub = self.wt(today - dt.timedelta(days=self.ri(3, 150)))
            r = self.r()
            if r < 0.55:
                self.decided(req, sub, "已通过")
            elif r < 0.7:
                self.decided(req, sub, "已驳回")
            elif r < 0.8:
                self.decided(req, sub, "已撤回")
            elif r < 0.9:
                self.pending(req, self.recent_open())
            else:
                self.draft(req, sub)

    def emergencies(self) -> None:
        """Director-approved emergency purchases (APR-4), ~5 % of all requests."""
        n = max(3, round(len(self.requests) * 0.05 / 0.95))
        pool = [a for a in self.acts if a["_si"] >= 3]
        recent = [a for a in pool if a["stage"] in ("执行", "结项验收")] or pool
        for _ in range(n):
            r = self.r()
            mode = ("recent" if r < 0.12 else "overdue" if r < 0.25 else
                    "rejected" if r < 0.3 else "done")
            a = self.ch(recent if mode in ("recent", "overdue") else pool)
            director = self.ch([d for d in self.directors if d != a["owner"]])
            amount = float(round(math.exp(self.u(math.log(5000), math.log(160_000))), -2))
            req = self.request("紧急采购", a["owner"], f"{a['name']}现场紧急采购", amount=amount,
                               activity=a, emergency_by=director)
            if mode == "recent":  # post-hoc chain still within its 3 workdays
                sub = self.wt((self.limit - dt.timedelta(hours=self.u(3, 60))).date())
                span_h = (self.limit - sub).total_seconds() / 3600
                self.pending(req, sub + dt.timedelta(hours=self.u(0, span_h)), submitted=sub)
            elif mode == "overdue":  # post-hoc chain stuck past its deadline
                sub = self.wt((self.limit - dt.timedelta(days=self.u(6, 25))).date())
                self.pending(req, sub + dt.timedelta(hours=self.u(2, 72)), submitted=sub)
            else:
                sub = self.past(self.wt(a["start_date"] - dt.timedelta(days=self.ri(0, 4))), 60)
                if mode == "rejected":
                    self.decided(req, sub, "已驳回")
                else:
                    self.decided(req, sub, "已通过")
                    req["posthoc_done_at"] = req["decided_at"]
            s = req["submitted_at"]
            req["posthoc_due_at"] = dt.datetime.combine(_add_wd(s.date(), 3), s.time())

    # ------------------------------------------------------------ risks, feedback

    def risks(self) -> None:
        lw = (10, 25, 30, 22, 13)
        for a in self.acts:
            stage = a["stage"]
            if stage in ("策划", "客户确认", "执行", "结项验收"):
                count = self.ri(1, 3)
            elif stage == "归档":
                count = 1 if self.r() < 0.3 else 0
            else:
                count = 1 if self.r() < 0.2 else 0
            for n in range(1, count + 1):
                cat = self.ch(tuple(RISKS))
                desc, mitigation = self.ch(RISKS[cat])
                lk, im = self.rng.choices(range(1, 6), weights=lw, k=2)
                if stage == "归档":
                    status = "已关闭"
                elif stage == "结项验收":
                    status = self.ch(("已缓解", "已关闭"))
                else:
                    r = self.r()
                    status = "识别" if r < 0.3 else ("监控中" if r < 0.75 else "已缓解")
                owner = a["owner"] if self.r() < 0.6 else self.worker(a["department"])
                risk = {"code": f"{a['code']}-R{n}", "activity": a["code"], "category": cat,
                        "description": desc, "likelihood": lk, "impact": im, "owner": owner,
                        "mitigation": mitigation, "status": status}
                self.t["risks"].append(risk)
                first = self.past(self.wt(a["start_date"] - dt.timedelta(days=self.ri(10, 40))), 200)
                changes = 0 if self.r() < 0.7 else self.ri(1, 2)
                levels = [(self.ri(1, 5), self.ri(1, 5)) for _ in range(changes)] + [(lk, im)]
                span = (self.limit - first).total_seconds()
                ats = sorted(first + dt.timedelta(seconds=self.u(0, span) * 0.8) for _ in range(changes))
                for h, ((l2, i2), at) in enumerate(zip(levels, [first, *ats], strict=True), 1):
                    self.t["risk_history"].append({"code": f"{risk['code']}-H{h}", "risk": risk,
                                                   "at": at.replace(microsecond=0), "likelihood": l2,
                                                   "impact": i2, "score": l2 * i2})

    def feedback(self) -> None:
        rows = []
        for a in self.acts:
            if a["stage"] not in ("结项验收", "归档") or a["customer"] is None:
                continue
            for _ in range(1 if self.r() < 0.8 else 2):
                sub = self.wt(a["end_date"] + dt.timedelta(days=self.ri(1, 7)), 9, 21, shift=False)
                if sub >= self.limit:
                    continue
                sat = self.rng.choices((5, 4, 3, 2, 1), weights=(45, 35, 12, 5, 3))[0]
                cust = a["customer"]
                who = cust["contact_name"] if self.r() < 0.6 else self.name()
                rows.append({"code": None, "activity": a["code"], "customer": cust, "satisfaction": sat,
                             "comments": self.ch(FEEDBACK[sat]), "respondent": who, "submitted_at": sub})
        rows.sort(key=lambda f: (f["submitted_at"], f["activity"]))
        for n, f in enumerate(rows, 1):
            f["code"] = f"FB-{n:06d}"
        self.t["feedback"] = rows

    # ------------------------------------------------------------ meetings, reports

    def weekly_meetings(self) -> None:
        this_monday = _monday(self.today)
        for k in range(12, 0, -1):
            monday = this_monday - dt.timedelta(days=7 * k)
            for code, name, *_ in DEPARTMENTS:
                held = dt.datetime.combine(monday, dt.time(9, 30)) + dt.timedelta(minutes=self.ri(0, 60))
                self.meeting("例会", f"{name}周例会（{monday.month}月{monday.day}日）", held, code)

    def reports(self) -> None:
        today, now = self.today, self.now
        people = self.rng.sample([c for c in self.active if c != self.gm], 30 * self.scale)
        streaky = set(self.rng.sample(people, 3 * self.scale))
        daily = set(self.rng.sample(people, 4 * self.scale))
        this_monday = _monday(today)
        rows: list[Row] = []
        for emp in people:
            periods: list[tuple[str, dt.date, dt.datetime]] = []
            for k in range(13, 0, -1):
                mon = this_monday - dt.timedelta(days=7 * k)
                periods.append(("周报", mon, _at(mon + dt.timedelta(days=7), 18)))
            for k in range(3, 0, -1):
                first = _month_add(today, -k)
                periods.append(("月报", first, _at(_month_add(first, 1).replace(day=5), 18)))
            if emp in daily:
                d = today - dt.timedelta(days=2)
                days = []
                while len(days) < 10:
                    if d.weekday() < 5:
                        days.append(d)
                    d -= _DAY
                periods += [("日报", d, _at(d + _DAY, 18)) for d in reversed(days)]
            mine = []
            for kind, ps, due in periods:
                if due >= now:
                    continue
                row = {"code": f"RP-{emp}-{ {'日报': 'D', '周报': 'W', '月报': 'M'}[kind] }-{ps:%Y%m%d}",
                       "employee": emp, "kind": kind, "period_start": ps, "due_at": due,
                       "late": False, "escalation_level": 0,
                       "content": f"本期完成：{'；'.join(self.rng.sample(WORK_ITEMS, 2))}。"
                                  f"下期计划：{self.ch(WORK_ITEMS)}。"}
                r = self.r()
                if emp in streaky and due >= now - dt.timedelta(days=35):
                    mode = "late_reason" if self.r() < 0.5 else "late"
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
                        sub = (self.wt(ps + dt.timedelta(days=4), 15, 19) if self.r() < 0.6
                               else self.wt(ps + dt.timedelta(days=7), 9, 18))
                    elif kind == "月报":
                        sub = self.wt(due.date() - dt.timedelta(days=self.ri(0, 5)), 9, 18)
                    else:
                        sub = (self.wt(ps, 17, 22, shift=False) if self.r() < 0.7
                               else self.wt(ps + _DAY, 9, 18, shift=False))
                    sub = min(sub, due)
                elif mode != "missing":
                    sub = self.after(due, self.u(1, 72))
                    if sub >= self.limit:
                        sub = None
                    else:
                        row["late"] = True
                        if mode == "late_reason":
                            row["late_reason"] = self.ch(LATE_REASONS)
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
            self.emp[emp]["late_streak"] = streak
            rows += mine
        self.t["reports"] = rows

    # ------------------------------------------------------------ KPIs, plans, problems

    def kpis(self) -> None:
        today = self.today
        y, q = today.year, (today.month - 1) // 3 + 1
        periods = []
        for _ in range(4):
            q -= 1
            if q == 0:
                y, q = y - 1, 4
            periods.append(f"{y}-Q{q}")
        periods.reverse()
        g = self.rng.gauss
        bias = {d[0]: self.u(-0.06, 0.06) for d in DEPARTMENTS}
        for period in periods:
            for dept, *_ in DEPARTMENTS:
                b = bias[dept]
                values = {
                    "K-COLLAB": min(1.0, max(0.6, 0.9 + b + g(0, 0.04))),
                    "K-DONE": min(1.0, max(0.6, 0.9 + b + g(0, 0.05))),
                    "K-COST": min(1.3, max(0.8, 1.0 - 1.5 * b + g(0, 0.05))),
                    "K-SAT": min(1.0, max(0.7, 0.9 + b + g(0, 0.03))),
                    "K-ERR": min(0.06, max(0.002, 0.02 - 0.2 * b + g(0, 0.006))),
                }
                if dept == "D05":
                    values["K-REACH"] = int(50000 * max(0.4, 1 + 3 * b + g(0, 0.12)))
                for kpi, v in values.items():
                    self.t["kpi_results"].append({
                        "code": f"KR-{period}-{dept}-{kpi}", "kpi": kpi, "period": period,
                        "subject": dept, "actual": v if isinstance(v, int) else round(v, 4)})

    def plans(self) -> None:
        today = self.today
        y, q, m = today.year, (today.month - 1) // 3 + 1, today.month
        periods: list[tuple[str, str, dt.date, dt.date, int, int]] = [
            ("年度", f"{y}", dt.date(y, 1, 1), dt.date(y, 12, 31), 5, 7)]
        for k in range(2, -1, -1):
            qi = (y * 4 + q - 1) - k
            qy, qq = qi // 4, qi % 4 + 1
            first = dt.date(qy, 3 * qq - 2, 1)
            periods.append(("季度", f"{qy}-Q{qq}", first, _month_add(first, 3) - _DAY, 3, 5))
        for k in range(3, -1, -1):
            first = _month_add(dt.date(y, m, 1), -k)
            periods.append(("月度", f"{first:%Y-%m}", first, _month_add(first, 1) - _DAY, 2, 4))
        for kind, period, first, last, lo, hi in periods:
            for dept, dname, *_ in DEPARTMENTS:
                code = f"PL-{period}-{dept}"
                label = {"年度": f"{period}年度", "季度": f"{period[:4]}年第{period[-1]}季度",
                         "月度": f"{first.year}年{first.month}月"}[kind]
                self.t["plans"].append({"code": code, "kind": kind, "period": period, "department": dept,
                                        "title": f"{dname}{label}工作计划", "owner": self.heads[dept]})
                span = (last - first).days
                titles = self.rng.sample(DEPT_TASKS[dept], min(len(DEPT_TASKS[dept]), self.ri(lo, hi)))
                for n, title in enumerate(titles, 1):
                    due = first + dt.timedelta(days=self.ri(span // 4, span))
                    owner = self.worker(dept) if self.workers[dept] else self.heads[dept]
                    task = {"code": f"{code}-T{n:02d}", "plan": code, "title": title, "owner": owner,
                            "due_date": due}
                    r = self.r()
                    if due < today:
                        status = "已完成" if r < 0.82 else ("已取消" if r < 0.88 else self.ch(("未开始", "进行中")))
                    elif first <= today:
                        status = "已完成" if r < 0.25 else ("进行中" if r < 0.7 else "未开始")
                    else:
                        status = "未开始"
                    if status == "已完成":
                        d = min(due + dt.timedelta(days=self.ri(-10, 3)), today - _DAY)
                        d = max(d, first)
                        if d >= today:
                            status = "进行中"
                        else:
                            task["done_at"] = self.wt(d)
                    task["status"] = status
                    self.t["plan_tasks"].append(task)

    def cycles(self) -> None:
        _cycles(self)

    def problems(self) -> None:
        today = self.today
        started = [a for a in self.acts if a["start_date"] < today and a["_si"] >= 3]
        rows = []
        for _ in range(40 * self.scale):
            desc, cause = self.ch(PROBLEMS)
            if self.r() < 0.85:
                a = self.ch(started)
                lo = a["start_date"] - dt.timedelta(days=5)
                hi = min(a["end_date"] + dt.timedelta(days=10), today - _DAY)
                lo = min(lo, hi)
                reported = self.wt(lo + dt.timedelta(days=self.ri(0, (hi - lo).days)))
                owner = a["owner"] if self.r() < 0.5 else self.worker(a["department"])
                act = a["code"]
            else:
                reported = self.wt(today - dt.timedelta(days=self.ri(1, 120)))
                owner = self.ch(self.active)
                act = None
            reported = self.past(reported)
            due = reported.date() + dt.timedelta(days=self.ri(5, 20))
            r = self.r()
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
        self.t["problems"] = rows


def _quarter(d: dt.date, back: int = 0) -> tuple[str, dt.date, dt.date]:
    """(code, first day, last day) of the quarter ``back`` quarters before ``d``'s."""
    q = d.year * 4 + (d.month - 1) // 3 - back
    year, idx = divmod(q, 4)
    start = dt.date(year, idx * 3 + 1, 1)
    return f"{year}-Q{idx + 1}", start, _month_add(start, 3) - _DAY


def _cycles(g: _Gen) -> None:
    today = g.today
    month = _month_add(today.replace(day=1), -1)
    last_q, _, last_q_end = _quarter(today, 1)
    g.t["eval_cycles"] += [
        {"code": f"{month:%Y-%m}-自评", "kind": "月度自评", "period": f"{month:%Y-%m}",
         "due_date": today.replace(day=5) if today.day <= 5 else _month_add(today, 1).replace(day=5),
         "w_kpi": 0.4, "w_supervisor": 0.3, "w_self": 0.1, "w_judges": 0.2, "missing_rule": "重新分配权重",
         "status": "已开启"},
        {"code": f"{last_q}-考评", "kind": "季度考评", "period": last_q, "due_date": last_q_end + dt.timedelta(days=30),
         "w_kpi": 0.4, "w_supervisor": 0.3, "w_self": 0.1, "w_judges": 0.2, "missing_rule": "标记待补",
         "cross_judges": 2, "forced_distribution": True, "status": "已开启"},
    ]
    done_q, done_start, done_end = _quarter(today, 2)
    g.t["audit_cycles"] += [
        {"code": done_q, "period_start": done_start, "period_end": done_end, "confidence": 0.95,
         "tolerable_rate": 0.05, "expected_rate": 0.0, "seed": 20000 + done_start.month, "status": "已完成",
         "deviation_rate": 0.017, "upper_limit": 0.046},
        {"code": last_q, "period_start": _quarter(today, 1)[1], "period_end": last_q_end, "confidence": 0.95,
         "tolerable_rate": 0.05, "expected_rate": 0.0, "status": "待抽样"},
    ]
    heads = sorted({d["head"]["code"] if isinstance(d["head"], dict) else d["head"] for d in g.t["departments"]})
    for n, (severity, desc, status) in enumerate(AUDIT_FINDINGS, 1):
        g.t["audit_findings"].append({
            "code": f"{done_q}-F{n:02d}", "cycle": done_q, "severity": severity, "description": desc,
            "owner": heads[n % len(heads)], "due_date": done_end + dt.timedelta(days=30 + 7 * n),
            "status": status, "fraud": severity == "严重"})


AUDIT_FINDINGS = (
    ("中", "3 笔费用报销缺少发票原件，仅有电子截图", "已整改"),
    ("高", "紧急采购事后补办超过规定期限，未按制度升级", "整改中"),
    ("低", "活动结项验收纪要未写明负责人与完成期限", "已复查"),
    ("中", "两项活动预算调整未经计划调整审批", "待整改"),
    ("严重", "一份活动效果数据与原始记录不符，涉嫌数据造假", "整改中"),
)
