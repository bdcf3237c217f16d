"""When a job that reads only changes (OPS-3) must read everything instead: the reasons both
escalations and approvals share. Each job adds its own after these."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from actops.kernel.runner import RunContext


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
