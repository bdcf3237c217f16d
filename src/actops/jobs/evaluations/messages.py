"""The one message a published evaluation sends (EVA-5, EVA-7): to the evaluated person only,
with only their own result — composite, grade, rank in their department, their supervisor's
comment. Nothing of anyone else is passed to the templates, so nothing else can show."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any

from actops.kernel.org import Org
from actops.messaging.outbox import Message, message_key
from actops.messaging.render import environment, locale_of

JOB = "evaluations"
KIND = "考评结果"
SUBJECTS = {"zh-CN": "【考评结果】{cycle}", "en": "[Evaluation result] {cycle}"}
LEADS = {"zh-CN": "您在本周期的考评结果已发布，内容仅发给您本人。",
         "en": "Your evaluation result for this cycle is published; it is sent to you alone."}


INVITE_KIND = "自评邀请"
INVITE_SUBJECTS = {"zh-CN": "【请自评】{cycle}（截止 {due}）", "en": "[Self-evaluation] {cycle} (due {due})"}


def invite(code: str, cycle: Any, url: str, org: Org, not_before: datetime, due: date | None = None,
           templates_dir: Path | None = None) -> list[Message]:
    """The personal self-evaluation link of ``code`` for ``cycle`` (once per person and cycle);
    ``due``: the day it is due (:func:`actops.jobs.evaluations.cycle.self_eval_due`, the day the
    escalation ladder chases from)."""
    person = org.active(code)
    if person is None:
        return []
    locale = locale_of(person.locale)
    due = str(due or "—")
    subject = INVITE_SUBJECTS[locale].format(cycle=cycle.code, due=due)
    values = {"subject": subject, "name": person.name, "cycle": cycle.code, "period": cycle.period or "", "due": due,
              "url": url}
    env = environment(templates_dir)
    html = env.get_template(f"evaluation_invite.{locale}.html.j2").render(**values)
    md = env.get_template(f"evaluation_invite.{locale}.md.j2").render(**values).strip() + "\n"
    items = (f"eval_cycles:{cycle.code}:self:{code}",)
    return [Message(key=message_key(JOB, person.code, channel, items), job=JOB, kind=INVITE_KIND,
                    recipient=person.code, channel=channel, address=address, subject=subject, body=md, html=html,
                    items=items, urgent=False, not_before=not_before, recipient_name=person.name)
            for channel, address in person.addresses()]


def item_key(row: Mapping[str, Any]) -> str:
    return f"evaluations:{row['Id']}:published"


def render(row: Mapping[str, Any], cycle: str, org: Org, not_before: datetime,
           templates_dir: Path | None = None) -> list[Message]:
    """``row``: the person's own evaluation values (code, employee, composite, grade, dept_rank,
    supervisor_comment)."""
    person = org.active(row.get("employee"))
    if person is None:
        return []
    locale = locale_of(person.locale)
    subject = SUBJECTS[locale].format(cycle=cycle)
    values = {"subject": subject, "name": person.name, "lead": LEADS[locale], "cycle": cycle,
              "composite": f"{row['composite']:g}", "grade": row.get("grade") or "—",
              "rank": row.get("dept_rank"), "comment": (row.get("supervisor_comment") or "").strip()}
    env = environment(templates_dir)
    html = env.get_template(f"evaluation_result.{locale}.html.j2").render(**values)
    md = env.get_template(f"evaluation_result.{locale}.md.j2").render(**values).strip() + "\n"
    items = (item_key(row),)
    return [Message(key=message_key(JOB, person.code, channel, items), job=JOB, kind=KIND, recipient=person.code,
                    channel=channel, address=address, subject=subject, body=md, html=html, items=items,
                    urgent=False, not_before=not_before, recipient_name=person.name)
            for channel, address in person.addresses()]
