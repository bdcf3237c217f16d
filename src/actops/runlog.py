"""The run log (SEC-4): every automated run, its stats, its issues and what it wrote."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from actops.records import Issue
from actops.store import Store


def new_run_id(flow: str, now: datetime) -> str:
    try:  # inside Prefect the flow run id ties our log to Prefect's
        from prefect.runtime import flow_run

        if flow_run.id:
            return f"{flow}-{flow_run.id}"
    except Exception:  # noqa: BLE001 - no Prefect context is the normal CLI case
        pass
    return f"{flow}-{now:%Y%m%dT%H%M}-{uuid.uuid4().hex[:6]}"


@dataclass
class RunLog:
    store: Store | None  # None in dry runs: nothing is written
    flow: str
    run_id: str
    started_at: datetime
    stats: dict[str, Any] = field(default_factory=dict)
    issues: list[Issue] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    writes: dict[str, int] = field(default_factory=dict)
    _row_id: int | None = None

    def start(self) -> None:
        if self.store is None:
            return
        t = self.store.table("run_log")
        self._row_id = t.create([{"run_id": self.run_id, "flow": self.flow, "started_at": self.started_at,
                                  "status": "running"}])[0]

    def wrote(self, table: str, n: int) -> None:
        if n:
            self.writes[table] = self.writes.get(table, 0) + n

    def finish(self, finished_at: datetime, failed: bool = False) -> str:
        status = "failed" if failed else ("partial" if self.issues or self.warnings else "ok")
        if self.store is not None and self._row_id is not None:
            lines = [*self.warnings, *(str(i) for i in self.issues)]
            text = "\n".join(lines[:500]) + (f"\n…另有 {len(lines) - 500} 条" if len(lines) > 500 else "")
            self.store.table("run_log").update([{
                "Id": self._row_id, "finished_at": finished_at, "status": status,
                "stats": json.dumps(self.stats, ensure_ascii=False),
                "issues": text or None,
                "writes": json.dumps(self.writes, ensure_ascii=False) if self.writes else None,
            }])
        return status
