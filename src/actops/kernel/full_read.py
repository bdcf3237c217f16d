"""When a job that reads only changes (OPS-3) must read everything instead: the reasons both
escalations and approvals share. Each job adds its own after these."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from actops.kernel.runner import RunContext


@dataclass(frozen=True)
class Scope:
    """What a run read: everything, or what changes named (OPS-3); kept in the run log."""

    full: bool = True
    why: str = ""
    full_read_at: datetime | None = None  # the last run that read everything (this one, when full)
    context: str = ""  # the job's fingerprint of what its rules take from settings, org…
    rows_read: dict[str, int] = field(default_factory=dict)

    def state(self) -> dict[str, Any]:
        """What the next run needs to read only changes (``Plan.state``)."""
        return {"full_read_at": self.full_read_at.isoformat() if self.full_read_at else None,
                "context": self.context}

    def stats(self) -> dict[str, Any]:
        return {"read": "full" if self.full else "changes", "read_why": self.why, "rows_read": dict(self.rows_read)}


def org_parts(base: Any) -> list[Any]:
    """What rules take from the org and settings (who is who, who is active, reachable, on leave,
    heads, the general manager), for a job's context fingerprint."""
    org = base.org
    return [repr(base.settings), [repr(org.people[c]) for c in sorted(org.people)],
            sorted(org.dept_heads.items()), org.general_manager, sorted(org.ambiguous),
            sorted((d.code or "", d.name or "") for d in base.departments)]


def fingerprint(parts: list[Any]) -> str:
    return hashlib.sha1(json.dumps(parts, ensure_ascii=False, default=str).encode()).hexdigest()


def why_full(ctx: RunContext, full_scan_hours: int, context: str, context_is: str,
             state_maps: Iterable[str] = ()) -> str | None:
    """Why this run must read everything, or None. ``context``: the job's fingerprint of what its
    rules take from settings, org…, described by ``context_is``; ``state_maps``: keys of
    ``Plan.state`` that must hold a mapping for changes to be read."""
    if ctx.params.get("full"):
        return "a full read was asked for (--full)"
    if ctx.since is None:
        return "no previous finished run to compare with (or options given)"
    state = ctx.since.previous_state
    try:
        last_full = datetime.fromisoformat(state["full_read_at"])
        for key in state_maps:
            dict(state[key])
    except (KeyError, TypeError, ValueError):
        return "the previous run kept no state for reading changes"
    if not timedelta(0) <= ctx.now - last_full < timedelta(hours=full_scan_hours):
        return f"the last full read ({last_full.isoformat()}) is {full_scan_hours} hours old or more (full_scan_hours)"
    if state.get("context") != context:
        return f"{context_is} changed"
    return None
