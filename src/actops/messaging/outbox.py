"""The outbox (消息发件箱): one row per message a person receives, shared by every job.

A job plans :class:`Message` objects — already rendered, with the items they cover
(``table:row_id:…`` keys), a kind, and the earliest moment they may go (quiet hours are
decided once, when the message is planned). :func:`enqueue` inserts those whose key is new.
:func:`send_pending` sends due rows one by one and marks each row the moment its channel
accepted it (REL-1): a run killed at any point re-sends at most the one message in flight.
If that mark cannot be written (NocoDB gone), sending stops at once for the same reason.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from actops.errors import ChannelError, ChannelMisconfigured
from actops.messaging.channels import Channel, Outgoing
from actops.nocodb import F

PENDING = "待发送"
SENT = "已发送"
FAILED = "失败"
RETIRED = "已撤回"
MAX_ATTEMPTS = 12  # transient failures, backed off up to 6 h apart: about two days in all
FIELDS = ["dedupe_key", "job", "kind", "channel", "recipient", "address", "subject", "body", "html", "images",
          "items", "urgent", "status", "attempts", "not_before", "run_id"]


def message_key(job: str, recipient: str, channel: str, items: Iterable[str]) -> str:
    """Stable key of a message: who, where, and exactly which items it covers (ASCII, so it
    travels in a mail header and a NocoDB ``in`` filter)."""
    digest = hashlib.sha1("\n".join([recipient, channel, *sorted(items)]).encode()).hexdigest()[:20]
    return f"{job}:{digest}"


@dataclass(frozen=True)
class Message:
    key: str
    job: str
    kind: str  # shown to staff, e.g. 提醒汇总
    recipient: str  # 工号
    channel: str  # 邮件 / 企业微信
    address: str
    subject: str
    body: str  # the text as sent (WeCom markdown, or the e-mail's text part)
    html: str
    items: tuple[str, ...]  # what it covers: "table:row_id:…" keys
    urgent: bool
    not_before: datetime
    recipient_name: str = ""  # for people reading a dry run or a report
    images: tuple[tuple[str, bytes], ...] = ()  # e-mail only: (content id, PNG) for ``cid:`` in the HTML

    def row(self, run_id: str) -> dict[str, Any]:
        return {"images": pack_images(self.images) if self.images else None,"dedupe_key": self.key, "job": self.job, "kind": self.kind, "channel": self.channel,
                "recipient": self.recipient, "address": self.address, "subject": self.subject[:200],
                "body": self.body, "html": self.html, "items": pack_items(self.items), "urgent": self.urgent,
                "status": PENDING, "attempts": 0, "not_before": self.not_before, "run_id": run_id}


def pack_images(images: Iterable[tuple[str, bytes]]) -> str:
    """One line per image: ``cid base64``."""
    import base64

    return "\n".join(f"{cid} {base64.b64encode(png).decode('ascii')}" for cid, png in images)


def unpack_images(text: str | None) -> tuple[tuple[str, bytes], ...]:
    import base64
    import binascii

    out = []
    for line in (text or "").splitlines():
        cid, _, data = line.strip().partition(" ")
        try:
            out.append((cid, base64.b64decode(data, validate=True)))
        except (binascii.Error, ValueError):
            continue  # a line someone edited: that image is left out, the mail still goes
    return tuple(out)


def pack_items(keys: Iterable[str]) -> str:
    """Item keys (``table:row_id[:rest]``) as one line per table and rest: ``table:rest|1 5 9``.

    A manager's digest can cover thousands of items; one key per line would pass NocoDB's
    100,000 characters per long text at about 3,000, ids alone at about 15,000.
    """
    groups: dict[tuple[str, str], list[str]] = {}
    for key in keys:
        table, row_id, *rest = key.split(":")
        groups.setdefault((table, ":".join(rest)), []).append(row_id)
    return "\n".join(f"{t}:{rest}|{' '.join(ids)}" for (t, rest), ids in groups.items())


def unpack_items(text: str | None) -> list[str]:
    """The keys :func:`pack_items` packed."""
    out = []
    for line in (text or "").splitlines():
        head, _, ids = line.strip().partition("|")
        table, _, rest = head.partition(":")
        out += [":".join(filter(None, (table, i, rest))) for i in ids.split()]
    return out


def item_refs(items_text: str | None) -> list[tuple[str, int]]:
    """``(table, row_id)`` of each covered item."""
    out = []
    for key in unpack_items(items_text):
        parts = key.split(":")
        if len(parts) >= 2 and parts[1].isdigit():
            out.append((parts[0], int(parts[1])))
    return out


def existing_keys(outbox: Any, keys: Sequence[str]) -> set[str]:
    """Which of ``keys`` are in the outbox, by the cheaper of a key scan or ``in`` lookups."""
    if not keys:
        return set()
    title = outbox.title("dedupe_key")
    if len(keys) > 100:  # one lookup is never more calls than a scan: a count only decides between more
        total = outbox.table.count()
        if total == 0:
            return set()
        if math.ceil(total / 1000) <= math.ceil(len(keys) / 100):
            return set(outbox.ids_by_key()) & set(keys)
    found: set[str] = set()
    for i in range(0, len(keys), 100):
        chunk = keys[i : i + 100]
        for row in outbox.table.iterate(f"({title},in,{','.join(chunk)})", fields=[title]):
            found.add(row[title])
    return found


def enqueue(outbox: Any, messages: Sequence[Message], run_id: str) -> list[Message]:
    """Insert messages whose key is new; returns those inserted."""
    have = existing_keys(outbox, [m.key for m in messages])
    new = [m for m in messages if m.key not in have]
    outbox.create([m.row(run_id) for m in new])
    return new


def covered_by_runs(outbox: Any, run_ids: Sequence[str]) -> set[str]:
    """Item keys covered by messages the given runs enqueued (runs that died before they
    could record those items as notified on the items' rows)."""
    out: set[str] = set()
    ids = list(run_ids)
    for i in range(0, len(ids), 50):  # a filter per 50 runs keeps the URL short
        rows = outbox.rows(outbox.where(F("run_id").in_(ids[i : i + 50])), fields=["items"])
        out |= {key for r in rows for key in unpack_items(r.get("items"))}
    return out


def backoff(attempts: int) -> timedelta:
    return timedelta(minutes=min(360, 5 * 2 ** max(0, attempts - 1)))


@dataclass
class SendReport:
    messages: list[tuple[str, str, int]] = field(default_factory=list)  # (recipient, channel, items)
    failures: list[tuple[str, str, str]] = field(default_factory=list)  # (recipient, channel, error)
    deferred: int = 0  # not yet due (quiet hours, back-off)
    held: int = 0  # not tried: their channel failed earlier in this run
    retired: int = 0  # their items closed or their recipient left
    rows_marked: int = 0
    stopped: str | None = None  # why sending stopped early


def send_pending(
    outbox: Any,
    channels: Mapping[str, Channel],
    now: datetime,
    run_id: str,
    *,
    still_open: Callable[[str, int], bool] = lambda table, row_id: True,
    undeliverable: Callable[[dict[str, Any]], str | None] = lambda row: None,
    hold: Callable[[dict[str, Any]], str | None] = lambda row: None,
    keep_going: Callable[[], bool] = lambda: True,
    jobs: Sequence[str] | None = None,
) -> SendReport:
    """Send due pending rows (of ``jobs``, default all), each marked as soon as it went."""
    report = SendReport()
    where = F("status") == PENDING
    if jobs:
        where = where & F("job").in_(jobs)
    pending = sorted(outbox.rows(outbox.where(where), fields=FIELDS),
                     key=lambda r: (str(r.get("not_before") or ""), r["Id"]))
    retire, due = [], []
    for row in pending:
        refs = item_refs(row.get("items"))
        reason = None
        if refs and not any(still_open(t, i) for t, i in refs):
            reason = "所涉事项均已处理或关闭，不再发送"
        else:
            reason = undeliverable(row)
        if reason:
            retire.append({"Id": row["Id"], "status": RETIRED, "last_error": reason})
        elif _not_before(row) > now or hold(row):  # not yet, or not to whom it is addressed now
            report.deferred += 1
        else:
            due.append(row)
    report.retired = len(retire)
    report.rows_marked += outbox.update(retire) if retire else 0
    broken: dict[str, str] = {}
    held: list[dict[str, Any]] = []
    for row in due:
        if not keep_going():
            report.stopped = "lease lost"
            break
        ch_name = row["channel"]
        if ch_name in broken:
            report.held += 1
            held.append({"Id": row["Id"], "last_error": f"本次运行未尝试：{broken[ch_name]}"})
            continue
        attempts = (row.get("attempts") or 0) + 1
        try:
            channel = channels.get(ch_name)
            if channel is None:
                raise ChannelMisconfigured(f"渠道「{ch_name}」未配置（见 README：SMTP_* / WECOM_WEBHOOK_URL）")
            channel.send(Outgoing(row["dedupe_key"], row.get("address") or "", row.get("subject") or "",
                                  row.get("html") or "", row.get("body") or "", unpack_images(row.get("images"))))
        except ChannelError as exc:
            report.failures.append((row["recipient"], ch_name, str(exc)))
            if exc.scope == "channel":
                broken[ch_name] = str(exc)
            if exc.retryable and attempts < MAX_ATTEMPTS:
                change = {"attempts": attempts, "last_error": str(exc), "not_before": now + backoff(attempts)}
            else:
                change = {"attempts": attempts, "last_error": str(exc), "status": FAILED}
            report.rows_marked += outbox.update([{"Id": row["Id"], **change}])
            continue
        # Marked now, not after the loop: a kill after this line re-sends nothing.
        report.rows_marked += outbox.update([{"Id": row["Id"], "status": SENT, "sent_at": now, "attempts": attempts,
                                              "last_error": None, "sent_run": run_id}])
        report.messages.append((row["recipient"], ch_name, len(item_refs(row.get("items")))))
    report.rows_marked += outbox.update(held) if held else 0
    return report


def _not_before(row: dict[str, Any]) -> datetime:
    raw = row.get("not_before")
    if not raw:
        return datetime.min.replace(tzinfo=UTC)
    if isinstance(raw, datetime):
        return raw
    dt = datetime.fromisoformat(str(raw).replace(" ", "T", 1))
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)  # NocoDB stores UTC
