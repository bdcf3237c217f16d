"""People and departments: the org chart, roles, deputies, who is away or gone (ORG-1)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from actops_dev.sample.core import Gen, Row

ROLE_ORDER = ("员工", "主管", "部门负责人", "总监", "财务", "人事", "审计", "计划组", "总经理", "CEO")

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


def build(g: Gen) -> None:
    s = g.scale
    emps: list[Row] = []
    used: set[str] = set()

    def add(dept: str, roles: list[str], title: str, manager: str | None) -> Row:
        while True:
            nm = g.name()
            if nm not in used:
                used.add(nm)
                break
        code = f"E{len(emps) + 1:04d}"
        row = {"code": code, "name": nm, "department": dept, "manager": manager,
               "_roles": set(roles), "title": title}
        emps.append(row)
        return row

    gm = add("D01", ["部门负责人", "总经理", "CEO"], "总经理", None)
    g.gm = gm["code"]
    coo = add("D01", ["总监"], "运营总监", gm["code"])
    heads = {"D01": gm}
    sups_by_dept: dict[str, list[Row]] = {"D01": []}
    for _ in range(2 * s):
        add("D01", ["员工"], g.ch(TITLES["D01"][2]), gm["code"])
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
            add(code, roles, g.ch(TITLES[code][2]), mgr)

    plain = [e for e in emps if e["_roles"] == {"员工"} and e["department"] in ("D03", "D04", "D05", "D06", "D10")]
    inactive = {e["code"] for e in g.rng.sample(plain, 3 * s)}
    supervisors = [e for e in emps if "主管" in e["_roles"]]
    on_leave = {e["code"] for e in g.rng.sample(supervisors, min(len(supervisors), 1 + s))}
    for e in emps:
        c = e["code"]
        lc = c.lower()
        r = g.r()
        e.update({
            "roles": ",".join(x for x in ROLE_ORDER if x in e["_roles"]),
            "email": f"{lc}@actops.example",
            "wecom_id": f"wx_{lc}",
            "mobile": g.mobile(),
            "channel": "邮件" if r < 0.7 else ("企业微信" if r < 0.9 else "邮件和企业微信"),
            "locale": "en" if g.r() < 0.05 else "zh-CN",
            "active": c not in inactive,
            "late_streak": 0,
        })
        if c in on_leave:
            e["on_leave_until"] = g.today + dt.timedelta(days=g.ri(3, 12))
        if "部门负责人" in e["_roles"]:
            sups = sups_by_dept.get(e["department"]) or []
            e["deputy"] = sups[0]["code"] if sups else coo["code"]
        elif "主管" in e["_roles"]:
            e["deputy"] = heads[e["department"]]["code"]
    g.emp = {e["code"]: e for e in emps}
    g.t["employees"] = emps
    g.heads = {d: h["code"] for d, h in heads.items()}
    active = [e for e in emps if e["active"]]
    g.active = [e["code"] for e in active]
    g.workers = {d[0]: [e["code"] for e in active if e["department"] == d[0]
                        and "部门负责人" not in e["_roles"]] for d in DEPARTMENTS}
    g.finance_staff = [e["code"] for e in active if "财务" in e["_roles"]]
    g.directors = [e["code"] for e in active if "总监" in e["_roles"]]
    g.planners = [e["code"] for e in active if "计划组" in e["_roles"]]
    g.on_leave = on_leave
    for code, name, kind, parent, _base in DEPARTMENTS:
        g.t["departments"].append({"code": code, "name": name, "parent": parent,
                                   "head": g.heads[code], "kind": kind})
