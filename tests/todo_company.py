"""A small company whose 「我的待办」 pages are known exactly (fake and real NocoDB alike).

At ``NOW`` (Mon 2026-10-12 16:00, Asia/Shanghai) each person should see exactly ``MINE[code]``
as their own items and ``TEAM[code]`` as their team's overdue items (by item code).
"""

from __future__ import annotations

from datetime import datetime

from actops.kernel.calendar import TZ, prc_calendar_rows

NOW = datetime(2026, 10, 12, 16, 0, tzinfo=TZ)
TABLES = {"settings", "calendar", "departments", "employees", "activity_types", "activities",
          "approval_requests", "approval_steps", "reports", "meetings", "action_items", "stage_gates",
          "problems", "eval_cycles", "evaluations", "audit_findings", "outbox", "run_log"}

MINE = {
    "E1": set(),
    "E2": set(),
    "E3": {"AP-1-S1", "AP-1-S2", "AP-2", "ACT-1", "RPT-2"},
    "E4": {"AP-1-S2", "ACT-2", "G-1", "M-1"},
    "E5": {"PRB-1"},
    "E6": {"AP-1-S3", "RPT-1"},
}
OVERDUE = {"E3": {"AP-1-S1", "AP-2"}, "E4": {"ACT-2"}, "E6": {"AP-1-S3", "RPT-1"}}
TEAM = {
    "E1": {"AP-1-S1", "AP-2", "ACT-2", "AP-1-S3", "RPT-1"},  # the general manager: everyone's
    "E2": {"AP-1-S1", "AP-2", "ACT-2"},  # head of 市场部
    "E5": {"AP-1-S3", "RPT-1"},  # head of 技术部
}
CLOSED = {"AP-1-S0", "ACT-3", "PRB-2"}  # nobody sees these


def at(text: str) -> str:
    return datetime.fromisoformat(text).replace(tzinfo=TZ).isoformat()


def company(store) -> None:
    store.table("calendar").create_missing(prc_calendar_rows([2026]))
    store.table("departments").create([
        {"code": "D00", "name": "总经办", "head": "E1"},
        {"code": "D01", "name": "市场部", "head": "E2", "parent": "D00"},
        {"code": "D02", "name": "技术部", "head": "E5", "parent": "D00"},
    ])
    people = [
        {"code": "E1", "name": "钱总", "department": "D00", "roles": "总经理"},
        {"code": "E2", "name": "赵部长", "department": "D01", "manager": "E1", "roles": "部门负责人"},
        {"code": "E3", "name": "张三", "department": "D01", "manager": "E2", "roles": "员工"},
        {"code": "E4", "name": "Li Si", "department": "D01", "manager": "E2", "roles": "员工", "locale": "en"},
        {"code": "E5", "name": "孙部长", "department": "D02", "manager": "E1", "roles": "部门负责人"},
        {"code": "E6", "name": "周六", "department": "D02", "manager": "E5", "roles": "员工"},
    ]
    store.table("employees").create(
        [{**p, "active": True, "email": f"{p['code'].lower()}@corp.test"} for p in people]
        + [{"code": "E9", "name": "离职者", "department": "D01", "manager": "E2", "active": False,
            "email": "e9@corp.test"}])
    store.table("activities").create([
        {"code": "ACT-A", "name": "秋季展会", "type": "市场推广", "stage": "执行", "department": "D01",
         "owner": "E4", "start_date": "2026-10-01", "end_date": "2026-12-20"}])
    store.table("approval_requests").create([
        {"code": "AP-1", "kind": "采购", "title": "展台搭建采购", "applicant": "E6", "status": "审批中",
         "submitted_at": at("2026-09-30T15:00")},
        {"code": "AP-2", "kind": "紧急采购", "title": "应急物资", "applicant": "E3", "status": "已通过",
         "emergency": True, "submitted_at": at("2026-10-05T09:00"), "decided_at": at("2026-10-05T10:00")},
    ])

    def step(code, seq, assignee, opened, status="待审批", **kw):
        return {"code": code, "request": "AP-1", "seq": seq, "role": "主管", "assignee": assignee,
                "status": status, "opened_at": at(opened), **kw}

    store.table("approval_steps").create([
        step("AP-1-S0", 1, "E3", "2026-09-29T09:00", status="已通过"),
        step("AP-1-S1", 2, "E3", "2026-09-30T15:00"),
        step("AP-1-S2", 3, "E4", "2026-10-12T10:00", delegate="E3"),
        step("AP-1-S3", 4, "E6", "2026-10-08T09:00"),
    ])
    store.table("action_items").create([
        {"code": "ACT-1", "title": "准备展台物料", "owner": "E3", "due_date": "2026-10-20", "status": "进行中"},
        {"code": "ACT-2", "title": "联系场地", "owner": "E4", "due_date": "2026-10-09", "status": "未开始"},
        {"code": "ACT-3", "title": "已办完的事", "owner": "E3", "due_date": "2026-10-01", "status": "已完成"},
    ])
    store.table("reports").create([
        {"code": "RPT-1", "employee": "E6", "kind": "周报", "period_start": "2026-09-28"},
        {"code": "RPT-2", "employee": "E3", "kind": "日报", "period_start": "2026-10-12"},
    ])
    store.table("meetings").create([
        {"code": "M-1", "title": "展会协调会", "kind": "协调会", "held_at": at("2026-10-12T09:00"), "recorder": "E4"}])
    store.table("stage_gates").create([
        {"code": "G-1", "activity": "ACT-A", "gate": "中期评审", "owner": "E4", "due_at": at("2026-10-20T18:00")}])
    store.table("problems").create([
        {"code": "PRB-1", "description": "展台电源不足", "owner": "E5", "due_date": "2026-10-30", "status": "处理中"},
        {"code": "PRB-2", "description": "已解决的问题", "owner": "E5", "due_date": "2026-10-01", "status": "已解决"},
    ])
