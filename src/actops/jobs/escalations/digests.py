"""One digest per person per run (ESC-5): notices grouped, ordered, and timed for quiet hours."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from actops.jobs.escalations.items import ItemKind, Notice
from actops.kernel.calendar import TZ
from actops.kernel.org import Org, Person
from actops.kernel.settings import Settings

_KIND_ORDER = {k: i for i, k in enumerate(ItemKind)}


@dataclass(frozen=True)
class Digest:
    """Everything one person hears about in one run (ESC-5)."""

    recipient: Person
    notices: tuple[Notice, ...]
    urgent: bool
    dedupe_keys: tuple[str, ...]
    send_after: datetime | None = None

    def groups(self) -> list[tuple[ItemKind, tuple[Notice, ...]]]:
        """Notices grouped by kind, in :class:`ItemKind` order."""
        out: dict[ItemKind, list[Notice]] = {}
        for n in self.notices:
            out.setdefault(n.item.kind, []).append(n)
        return [(k, tuple(v)) for k, v in sorted(out.items(), key=lambda kv: _KIND_ORDER[kv[0]])]


def _sort_key(n: Notice) -> tuple:
    due = n.item.due_at or datetime.max.replace(tzinfo=TZ)
    return (_KIND_ORDER[n.item.kind], due, n.item.code, n.item.table, n.item.row_id)


def build_digests(
    notices: Iterable[Notice], org: Org, now: datetime, policy: Settings
) -> list[Digest]:
    """One digest per recipient (ordered by recipient code), items grouped by kind.

    A recipient who gets several rungs of the same item (e.g. manager who is also the
    general manager) sees it once, at the highest rung; all dedupe keys are kept.  In quiet
    hours a non-urgent digest waits for the end of the window; a digest with any urgent
    item goes now, whole (splitting it would send two messages in one run).
    """
    by_person: dict[str, dict[tuple[str, int], Notice]] = {}
    keys: dict[str, list[str]] = {}
    for n in notices:
        if n.recipient not in org.people:
            continue
        items = by_person.setdefault(n.recipient, {})
        ident = (n.item.table, n.item.row_id)
        if ident not in items or items[ident].rung < n.rung:
            items[ident] = n
        keys.setdefault(n.recipient, []).append(n.dedupe_key)
    quiet = policy.in_quiet_hours(now)
    out: list[Digest] = []
    for code in sorted(by_person):
        shown = tuple(sorted(by_person[code].values(), key=_sort_key))
        urgent = any(n.item.urgent for n in shown)
        all_keys = tuple(sorted(set(keys[code])))
        out.append(
            Digest(
                recipient=org.people[code],
                notices=shown,
                urgent=urgent,
                dedupe_keys=all_keys,
                send_after=policy.quiet_ends_after(now) if quiet and not urgent else None,
            )
        )
    return out
