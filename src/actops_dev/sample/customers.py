"""Customers, and the feedback they give on finished activities."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from actops_dev.sample.core import Gen

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
FEEDBACK = {
    5: ("活动组织非常专业，流程顺畅，效果超出预期。", "现场布置很用心，嘉宾反馈很好。", "服务响应及时，期待下次合作。"),
    4: ("整体满意，个别环节衔接可以更紧凑。", "活动效果不错，建议提前发布议程。", "执行到位，茶歇品类可以更丰富。"),
    3: ("活动基本达到预期，但签到排队时间较长。", "内容尚可，互动环节偏少。"),
    2: ("现场秩序较乱，音响效果较差。", "宣传物料与确认稿不一致。"),
    1: ("活动严重延误，体验很差。",),
}


def build(g: Gen) -> None:
    used: set[str] = set()
    managers = g.workers["D04"] + g.workers["D10"]
    g.customer_rows = []
    for i in range(40 * g.scale):
        while True:
            city, (brand, slug), (ind, suffix, islug) = (
                g.ch(CITIES), g.ch(BRANDS), g.ch(INDUSTRIES))
            nm = f"{city}{brand}{suffix}有限公司"
            if nm not in used:
                used.add(nm)
                break
        row = {"code": f"C{i + 1:04d}", "name": nm, "industry": ind, "contact_name": g.name(),
               "contact_phone": g.mobile(),
               "contact_email": f"{g.ch(('market', 'pr', 'events', 'service', 'info', 'biz'))}"
                                f"@{slug}-{islug}.example.cn",
               "account_manager": g.ch(managers), "_brand": brand}
        g.customer_rows.append(row)
    g.t["customers"] = g.customer_rows


def feedback(g: Gen) -> None:
    rows = []
    for a in g.acts:
        if a["stage"] not in ("结项验收", "归档") or a["customer"] is None:
            continue
        for _ in range(1 if g.r() < 0.8 else 2):
            sub = g.wt(a["end_date"] + dt.timedelta(days=g.ri(1, 7)), 9, 21, shift=False)
            if sub >= g.limit:
                continue
            sat = g.rng.choices((5, 4, 3, 2, 1), weights=(45, 35, 12, 5, 3))[0]
            cust = a["customer"]
            who = cust["contact_name"] if g.r() < 0.6 else g.name()
            rows.append({"code": None, "activity": a["code"], "customer": cust, "satisfaction": sat,
                         "comments": g.ch(FEEDBACK[sat]), "respondent": who, "submitted_at": sub})
    rows.sort(key=lambda f: (f["submitted_at"], f["activity"]))
    for n, f in enumerate(rows, 1):
        f["code"] = f"FB-{n:06d}"
    g.t["feedback"] = rows
