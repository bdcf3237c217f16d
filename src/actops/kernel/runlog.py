"""The run log (SEC-4): every automated run, its stats, its issues and what it wrote.

Its rows are also the lease of a job (see :mod:`actops.kernel.lease`): a run's row says
运行中 with a host, a pid and a heartbeat while it works, and a final status afterwards.
"""

from __future__ import annotations

import json
import os
import socket
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from actops.kernel.calendar import TZ
from actops.records import Issue

RUNNING = "运行中"
OK = "成功"
PARTIAL = "部分成功"
FAILED = "失败"
SKIPPED = "跳过"
FINISHED = (OK, PARTIAL)  # runs whose stats the next run may trust
MAX_LINES = 500


def new_run_id(flow: str, now: datetime) -> str:
    try:  # inside Prefect the flow run id ties our log to Prefect's
        from prefect.runtime import flow_run

        if flow_run.id:
            return f"{flow}-{flow_run.id}"
    except Exception:  # noqa: BLE001 - no Prefect context is the normal CLI case
        pass
    return f"{flow}-{now:%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:6]}"


def host_name() -> str:
    """This host as the lease knows it: the name plus the process namespace, so two
    containers that share a host name never judge each other's pids."""
    try:
        ns = os.stat("/proc/self/ns/pid").st_ino
    except OSError:
        ns = 0
    return f"{socket.gethostname()[:40]}#{ns}"


@dataclass
class RunLog:
    store: Any | None  # a Store; None in dry runs: nothing is written
    flow: str
    run_id: str
    started_at: datetime  # the moment the run is about (``--now``); the row records the real start
    stats: dict[str, Any] = field(default_factory=dict)
    issues: list[Issue] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    writes: dict[str, int] = field(default_factory=dict)
    row_id: int | None = None

    def start(self) -> None:
        if self.store is None:
            return
        t = self.store.table("run_log")
        # Real clock, not the run's (possibly pretended) ``now``: other runs judge the lease by it.
        real = datetime.now(TZ)
        self.row_id = t.create([{"run_id": self.run_id, "flow": self.flow, "started_at": real,
                                 "status": RUNNING, "host": host_name(), "pid": os.getpid(),
                                 "heartbeat_at": real}])[0]

    def wrote(self, table: str, n: int) -> None:
        if n:
            self.writes[table] = self.writes.get(table, 0) + n

    def status(self, failed: bool = False) -> str:
        return FAILED if failed else (PARTIAL if self.issues or self.warnings else OK)

    def finish(self, finished_at: datetime, failed: bool = False, status: str | None = None) -> str:
        status = status or self.status(failed)
        if self.store is not None and self.row_id is not None:
            lines = [*self.warnings, *(str(i) for i in self.issues)]
            text = "\n".join(lines[:MAX_LINES]) + (
                f"\n…另有 {len(lines) - MAX_LINES} 条" if len(lines) > MAX_LINES else "")
            self.store.table("run_log").update([{
                "Id": self.row_id, "finished_at": finished_at, "status": status,
                "stats": json.dumps(self.stats, ensure_ascii=False, default=str),
                "issues": text or None,
                "writes": json.dumps(self.writes, ensure_ascii=False) if self.writes else None,
            }])
        return status
