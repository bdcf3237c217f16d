"""Accounts and roles as code (STF-4, EVA-7): NocoDB's base members follow the 员工 table.

load (员工, 系统设置, each base's members) → plan (pure: the base-user calls, the 账号开通
messages, the issues) → ``apply_extra`` (the calls, before the runner enqueues the messages:
nobody is welcomed to an account whose invitation failed) → the runner does the rest (issues
on 员工 rows, outbox, sending, 运行日志 with every call listed).

Every run reads the members again (``wake_at`` is the run's own moment): a role changed by
hand in NocoDB is no edit of a watched table, and a daily run must still put it back.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from actops import config
from actops.errors import NocoDBError, TransientError
from actops.jobs.access import members as api_members
from actops.jobs.access.members import Member
from actops.jobs.access.policy import BaseRef, Change, access_of, changes, people
from actops.jobs.access.welcome import TABLE, welcome
from actops.kernel.runner import FunctionJob, Plan, RunContext
from actops.kernel.settings import Settings
from actops.nocodb import F
from actops.records import Record
from actops.schema.sync import base_title

NAME = "access"
NOTE_TAG = "账号权限"
WATCHED = ("employees", "settings")


@dataclass
class Inputs:
    now: datetime
    settings: Settings
    employees: list[Record]
    bases: list[BaseRef]
    members: dict[str, list[Member]]  # base name → every NocoDB user with their role there
    public_url: str  # where people open NocoDB (NOCODB_PUBLIC_URL, else the API's URL)
    demo: bool = False  # the local stack: passwords come from .actops/accounts.csv
    welcomed: frozenset[str] = frozenset()  # outbox keys of the 账号开通 messages already queued


def load(store: Any, ctx: RunContext) -> Inputs:
    settings_rows, _ = store.table("settings").read()  # its issues are `actops check`'s and the escalations'
    settings, _ = Settings.from_rows(settings_rows)
    emps, _ = store.table("employees").read(salvage=True)  # a bad e-mail is None here and reported below
    me = api_members.token_user(store.api)
    bases, live = [], {}
    for spec in store.specs:
        title = base_title(spec, store.prefix)
        base = store.api.base_by_title(title)
        if base is None:
            continue  # `actops schema apply` creates it; nothing to open yet
        bases.append(BaseRef(spec.name, title, base.id, spec.restricted))
        live[spec.name] = api_members.members(store.api, base.id, title, me)
    outbox = store.table("outbox")
    welcomed = frozenset(r["dedupe_key"] for r in outbox.rows(outbox.where(F("job") == NAME), fields=["dedupe_key"]))
    return Inputs(now=ctx.now, settings=settings, employees=emps, bases=bases, members=live,
                  public_url=config.get("NOCODB_PUBLIC_URL") or store.api.url,
                  demo=config.get("ACTOPS_MANAGED") == "1", welcomed=welcomed)


def plan(inp: Inputs, ctx: RunContext) -> Plan:
    staff, shared, issues = people(inp.employees)
    calls, warnings = changes(staff, shared, inp.bases, inp.members)
    out = Plan(issues=issues, warnings=warnings, extra=list(calls))
    quiet = inp.settings.in_quiet_hours(inp.now)
    not_before = inp.settings.quiet_ends_after(inp.now) if quiet else inp.now
    # Everyone with an account is welcomed once, keyed by person and e-mail: a run after one
    # that died between its calls and its enqueue still welcomes, a second run does not.
    welcomes = [welcome(p, grants, inp.public_url, inp.demo, not_before)
                for p in sorted(staff.values(), key=lambda p: p.code) if (grants := access_of(p, inp.bases))]
    out.messages = [m for m in welcomes if m.key not in inp.welcomed]
    out.checked = {TABLE: [e.Id for e in inp.employees]}
    out.wake_at = ctx.now  # always look again: hand-made changes in NocoDB leave no mark here
    counts = {a: sum(1 for c in calls if c.action == a) for a in ("invite", "set_role", "remove")}
    out.stats = {"accounts": len(staff), **counts, "welcomes": len(out.messages)}  # each call: the run log
    return out


def apply_extra(store: Any, inputs: Inputs, plan: Plan) -> dict[str, int]:
    """Make the planned calls; a call NocoDB refuses is a warning, its person is not welcomed."""
    done, failed_people = 0, set()
    for c in plan.extra:
        try:
            _call(store.api, c)
            done += 1
        except TransientError:
            raise  # NocoDB is away: the run fails and the next one starts over
        except NocoDBError as exc:
            plan.warnings.append(f"{c} 未成功：{exc}")
            if c.code:
                failed_people.add(c.code)
    plan.messages[:] = [m for m in plan.messages if m.recipient not in failed_people]
    plan.stats["calls_done"] = done
    return {"NocoDB 成员": done}


def _call(api: Any, c: Change) -> None:
    b = c.base
    if c.action == "invite":
        api_members.invite(api, b.id, b.zh, c.email, c.role or "")
    elif c.action == "set_role":
        api_members.set_role(api, b.id, b.zh, c.user_id or "", c.role or "")
    else:
        api_members.remove(api, b.id, b.zh, c.user_id or "")


def still_open(inputs: Inputs) -> Callable[[str, int], bool]:
    staff, _, _ = people(inputs.employees)
    ids = {p.row_id for p in staff.values()}
    return lambda table, row_id: table != TABLE or row_id in ids


def undeliverable(inputs: Inputs) -> Callable[[dict[str, Any]], str | None]:
    staff, _, _ = people(inputs.employees)
    codes = {p.code for p in staff.values()}
    return lambda row: None if row.get("recipient") in codes else "收件人已离职或没有账号，未发送"


JOB = FunctionJob(NAME, NOTE_TAG, WATCHED, load, plan, still_open=still_open, undeliverable=undeliverable,
                  apply_extra=apply_extra)
