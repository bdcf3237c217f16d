"""What the ladder chases: one open row somebody has to act on, and the notices about it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class ItemKind(StrEnum):
    """What kind of open item; also the display order inside a digest."""

    APPROVAL = "approval"
    REPORT = "report"
    MINUTES = "minutes"
    ACTION = "action"
    GATE = "gate"
    POSTHOC = "posthoc"
    PROBLEM = "problem"
    SELF_EVAL = "self_eval"  # 自评: a monthly self-evaluation not yet submitted (EVA-1, HR base)
    FINDING = "finding"  # 审计整改: an audit finding not yet remedied (AUD-5)


@dataclass(frozen=True)
class OpenItem:
    """One open row somebody has to act on; ``due_at`` is already computed (:func:`due_for`)."""

    kind: ItemKind
    table: str
    row_id: int
    code: str
    title: str
    assignee: str | None
    due_at: datetime | None
    urgent: bool = False
    link: str | None = None
    escalation_level: int = 0
    next_escalation_at: datetime | None = None
    notified: frozenset[str] = frozenset()  # ledger tokens already enqueued (已通知)
    # ``link`` signed for the assignee alone (their /self/ page): anyone else is shown
    # ``others_link`` instead (see :meth:`link_for`).
    personal_link: bool = False
    others_link: str | None = None

    def link_for(self, recipient: str | None) -> str | None:
        """The link ``recipient`` may be shown: ``link``, unless it is the assignee's personal
        link and ``recipient`` is somebody else (a manager a rung above, a team view)."""
        if not self.personal_link or (recipient is not None and recipient == self.assignee):
            return self.link
        return self.others_link


@dataclass(frozen=True)
class Notice:
    item: OpenItem
    rung: int
    recipient: str
    role: str
    dedupe_key: str
    assignee_name: str | None = None  # for manager/GM rungs: whose item it is

    @property
    def ledger_token(self) -> str:
        """How the item's row remembers this notice (its 已通知 field): ``r2:E0003``."""
        return f"r{self.rung}:{self.recipient}"


def dedupe_key(item: OpenItem, rung: int, recipient: str) -> str:
    return f"{item.table}:{item.row_id}:r{rung}:{recipient}"
