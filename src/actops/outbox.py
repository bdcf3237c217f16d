"""The outbox: one row per (item, rung, recipient, channel), sent as one digest per person.

Enqueueing is idempotent by the unique dedupe key; sending takes pending rows, groups them
per recipient and channel into one digest (ESC-5), sends, and marks every row it carried.
A failed send leaves the rows pending with the error and the attempt count, so the next run
sends them once.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from actops.channels import Channel, ChannelError
from actops.rules.escalation import Digest, ItemKind, Notice, OpenItem, Org, Policy, build_digests
from actops.store import BoundTable

MAX_ATTEMPTS = 8  # then the rows turn 'failed' and stay visible in the 发送失败 view


def notice_to_json(n: Notice) -> str:
    it = n.item
    return json.dumps({
        "kind": it.kind.value, "table": it.table, "row_id": it.row_id, "code": it.code, "title": it.title,
        "assignee": it.assignee, "due_at": it.due_at.isoformat() if it.due_at else None,
        "urgent": it.urgent, "link": it.link, "rung": n.rung, "recipient": n.recipient, "role": n.role,
        "dedupe_key": n.dedupe_key, "assignee_name": n.assignee_name,
    }, ensure_ascii=False)


def notice_from_json(text: str) -> Notice:
    d = json.loads(text)
    item = OpenItem(kind=ItemKind(d["kind"]), table=d["table"], row_id=d["row_id"], code=d["code"],
                    title=d["title"], assignee=d["assignee"],
                    due_at=datetime.fromisoformat(d["due_at"]) if d["due_at"] else None,
                    urgent=d["urgent"], link=d["link"])
    return Notice(item=item, rung=d["rung"], recipient=d["recipient"], role=d["role"],
                  dedupe_key=d["dedupe_key"], assignee_name=d.get("assignee_name"))


def outbox_rows(notices: Iterable[Notice], org: Org, run_id: str, now: datetime, policy: Policy) -> list[dict[str, Any]]:
    """Pure: the outbox rows for these notices, one per channel the recipient uses."""
    rows = []
    for n in notices:
        person = org.people.get(n.recipient)
        if person is None:
            continue
        for channel, address in person.addresses():
            rows.append({
                "dedupe_key": f"{n.dedupe_key}:{channel}",
                "channel": channel,
                "recipient": n.recipient,
                "address": address,
                "subject": f"{n.item.code} {n.item.title}"[:200],
                "body": notice_to_json(n),
                "urgent": n.item.urgent,
                "status": "pending",
                "attempts": 0,
                "run_id": run_id,
                "not_before": policy.quiet_ends_after(now) if policy.in_quiet_hours(now) and not n.item.urgent else now,
            })
    return rows


def existing_keys(outbox: BoundTable, keys: Sequence[str]) -> set[str]:
    """Which of ``keys`` are in the outbox, by the cheaper of a key scan or ``in`` lookups."""
    if not keys:
        return set()
    total = outbox.table.count()
    if total == 0:
        return set()
    title = outbox.title("dedupe_key")
    if math.ceil(total / 1000) <= math.ceil(len(keys) / 100):
        return set(outbox.ids_by_key()) & set(keys)
    found: set[str] = set()
    for i in range(0, len(keys), 100):
        chunk = keys[i : i + 100]
        for row in outbox.table.iterate(f"({title},in,{','.join(chunk)})", fields=[title]):
            found.add(row[title])
    return found


def enqueue(outbox: BoundTable, rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Insert rows whose dedupe key is new; returns the rows inserted."""
    keys = [r["dedupe_key"] for r in rows]
    have = existing_keys(outbox, keys)
    new = [r for r in rows if r["dedupe_key"] not in have]
    outbox.create(new)
    return new


@dataclass
class SendReport:
    messages: list[tuple[str, str, int]] = field(default_factory=list)  # (recipient, channel, items)
    failures: list[tuple[str, str, str]] = field(default_factory=list)  # (recipient, channel, error)
    deferred: int = 0  # rows held back by quiet hours
    rows_marked: int = 0  # outbox rows updated (sent, or attempt and error recorded)


def send_pending(
    outbox: BoundTable,
    channels: Mapping[str, Channel],
    org: Org,
    now: datetime,
    policy: Policy,
    render: Callable[[Digest, datetime], tuple[str, str, str]],
    run_id: str,
    still_open: Callable[[str, int], bool] = lambda table, row_id: True,
) -> SendReport:
    """Send pending rows as digests. Rows for items closed meanwhile, or for people no
    longer in the org, are retired as 'failed' with the reason instead of waiting forever."""
    report = SendReport()
    pending = outbox.rows(outbox.where(("status", "eq", "pending")))
    groups: dict[tuple[str, str], list[tuple[dict[str, Any], Notice]]] = {}
    updates: list[dict[str, Any]] = []
    for row in pending:
        n = notice_from_json(row["body"])
        if not still_open(n.item.table, n.item.row_id):
            updates.append({"Id": row["Id"], "status": "failed", "last_error": "事项已处理或关闭，不再发送"})
        elif org.active(row["recipient"]) is None:
            updates.append({"Id": row["Id"], "status": "failed", "last_error": "收件人不在员工表中或已离职，未发送"})
        else:
            groups.setdefault((row["recipient"], row["channel"]), []).append((row, n))
    try:
        for (recipient, channel_name), pairs in sorted(groups.items()):
            rows = [r for r, _ in pairs]
            digest = build_digests([n for _, n in pairs], org, now, policy)[0]
            if digest.send_after is not None:
                report.deferred += len(rows)
                continue
            error = _send(channels.get(channel_name), channel_name, rows[0]["address"], render(digest, now))
            attempts = {r["Id"]: (r.get("attempts") or 0) + 1 for r in rows}
            if error is None:
                report.messages.append((recipient, channel_name, len(digest.notices)))
                updates += [{"Id": i, "status": "sent", "sent_at": now, "attempts": a, "last_error": None,
                             "run_id": run_id} for i, a in attempts.items()]
            else:
                report.failures.append((recipient, channel_name, error))
                updates += [{"Id": i, "attempts": a, "last_error": error,
                             "status": "failed" if a >= MAX_ATTEMPTS else "pending"} for i, a in attempts.items()]
    finally:
        # Whatever happened mid-loop, what was sent is recorded: a rerun must not resend it.
        report.rows_marked = outbox.update(updates)
    return report


def _send(channel: Channel | None, name: str, address: str, rendered: tuple[str, str, str]) -> str | None:
    if channel is None:
        return f"channel {name} is not configured (see README: SMTP_* / WECOM_WEBHOOK_URL)"
    subject, html, md = rendered
    try:
        channel.send(address, subject, html, md)
    except ChannelError as exc:
        return str(exc)
    return None
