"""One digest per person per run (ESC-5): notices grouped, ordered, and timed for quiet hours."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
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
    by_department: tuple[tuple[str, int], ...] = ()  # (owner's department, items), most first

    def groups(self, only: frozenset[Notice] | None = None) -> list[tuple[ItemKind, tuple[Notice, ...]]]:
        """Notices grouped by kind, in :class:`ItemKind` order (only those in ``only``, if given)."""
        out: dict[ItemKind, list[Notice]] = {}
        for n in self.notices:
            if only is None or n in only:
                out.setdefault(n.item.kind, []).append(n)
        return [(k, tuple(v)) for k, v in sorted(out.items(), key=lambda kv: _KIND_ORDER[kv[0]])]

    def most_urgent(self, limit: int) -> frozenset[Notice]:
        """The ``limit`` most urgent notices: urgent items first, then the highest rung, then
        the earliest due time."""
        return frozenset(sorted(self.notices, key=urgency_key)[:limit])

    def by_kind(self) -> list[tuple[ItemKind, int]]:
        return [(k, len(v)) for k, v in self.groups()]


def _sort_key(n: Notice) -> tuple:
    due = n.item.due_at or datetime.max.replace(tzinfo=TZ)
    return (_KIND_ORDER[n.item.kind], due, n.item.code, n.item.table, n.item.row_id)


def urgency_key(n: Notice) -> tuple:
    due = n.item.due_at or datetime.max.replace(tzinfo=TZ)
    return (not n.item.urgent, -n.rung, due, n.item.code, n.item.table, n.item.row_id)


def _by_department(notices: Iterable[Notice], org: Org, names: Mapping[str, str]) -> tuple[tuple[str, int], ...]:
    counts: Counter[str] = Counter()
    for n in notices:
        owner = org.people.get((n.item.assignee or "").strip())
        dept = owner.department if owner else None
        counts[names.get(dept, dept) if dept else "—"] += 1
    return tuple(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def build_digests(
    notices: Iterable[Notice], org: Org, now: datetime, policy: Settings,
    departments: Mapping[str, str] | None = None,
) -> list[Digest]:
    """One digest per recipient (ordered by recipient code), items grouped by kind.

    A recipient who gets several rungs of the same item (e.g. manager who is also the
    general manager) sees it once, at the highest rung; all dedupe keys are kept.  In quiet
    hours a non-urgent digest waits for the end of the window; a digest with any urgent
    item goes now, whole (splitting it would send two messages in one run). Items are also
    counted by their owner's department (``departments``: code → name) for long digests.
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
                by_department=_by_department(shown, org, departments or {}),
            )
        )
    return out
