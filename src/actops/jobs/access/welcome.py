"""The 账号开通 message: one e-mail per person with an account, zh-CN or en.

It says where NocoDB is, the login, which bases the person may open, how to choose a
password, and the two clicks that switch NocoDB's own interface to 简体中文 — NocoDB 0.301
keeps the interface language only in the browser (localStorage ``nocodb-gui-v2``); no server
setting, API, URL or user-profile field sets it, and its first guess from the browser's
languages takes English for ``zh-CN`` (it matches only ``zh-Hans…``).

No secret goes into the message: it is an outbox row every editor of the operations base can
read. Production people set their password through NocoDB's own invitation e-mail (NocoDB
started with ``NC_SMTP_*`` and ``NC_PUBLIC_URL``) or "Forgot password"; the demo's passwords
stay on the demo machine (``.actops/accounts.csv``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from actops.jobs.access.policy import ROLE_LABELS, BaseRef, Person
from actops.kernel.org import CHANNEL_EMAIL
from actops.messaging.outbox import Message, message_key
from actops.messaging.render import environment, locale_of, safe_link

JOB = "access"
KIND = "账号开通"
TABLE = "employees"


def item_key(p: Person) -> str:
    """What the message covers: the 员工 row and the e-mail (a changed e-mail is a new account)."""
    return f"{TABLE}:{p.row_id}:welcome:{p.email}"


def signin_url(public_url: str) -> str:
    return public_url.rstrip("/") + "/dashboard/#/signin"


def welcome(p: Person, access: Sequence[tuple[BaseRef, str]], public_url: str, demo: bool,
            not_before: datetime, templates_dir: Path | None = None) -> Message:
    env = environment(templates_dir)
    locale = locale_of(p.locale)
    labels = ROLE_LABELS[locale]
    values = {
        "name": p.name, "email": p.email, "demo": demo,
        "url": safe_link(signin_url(public_url)) or signin_url(public_url),
        "bases": [{"title": b.zh, "role": labels.get(r, r)} for b, r in access],
    }
    subject = " ".join(env.get_template(f"welcome_subject.{locale}.txt.j2").render(**values).split())
    html = env.get_template(f"welcome.{locale}.html.j2").render(subject=subject, **values)
    text = env.get_template(f"welcome.{locale}.md.j2").render(**values).strip() + "\n"
    items = (item_key(p),)
    return Message(key=message_key(JOB, p.code, CHANNEL_EMAIL, items), job=JOB, kind=KIND, recipient=p.code,
                   channel=CHANNEL_EMAIL, address=p.email, subject=subject, body=text, html=html, items=items,
                   urgent=False, not_before=not_before, recipient_name=p.name)
