"""One run of a job at a time, across CLI, cron and hosts (REL-1), held in the run log.

NocoDB has no compare-and-set, but it hands out row Ids in order. Every run inserts its
运行中 row first (:class:`~actops.kernel.runlog.RunLog`), then reads the job's 运行中 rows:
the lowest Id whose holder is alive holds the lease, every other run stops as 跳过. A
holder is alive while its heartbeat is fresh and, on this host, its process exists; a dead
holder's row is marked 失败 by whoever looks next, so a rerun after a crash is not locked
out (at once on the same host, after ``ttl`` seconds from another).

The check runs twice: at the start (cheap skip) and again right before the first write,
by when every insert that raced ours has committed (PostgreSQL may commit a lower Id after
a higher one). Freshness is judged on NocoDB's clock (the rows' UpdatedAt against our own
row's), never by comparing two hosts' clocks. While the run works a heartbeat thread keeps
the row fresh; the holder stops sending by itself when its row was taken from it or when
no heartbeat got through for half the expiry, before anyone else may take over.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from actops import config
from actops.errors import ActopsError
from actops.kernel.calendar import TZ
from actops.kernel.runlog import FAILED, RUNNING, RunLog, host_name
from actops.nocodb import F

DEFAULT_TTL = 90.0  # seconds without a heartbeat before another host may take over


class LeaseLost(ActopsError):
    """Another run took this job's lease; this run stops before sending anything more."""


def lease_ttl() -> float:
    raw = config.get("ACTOPS_LEASE_TTL")
    try:
        return max(2.0, float(raw)) if raw else DEFAULT_TTL
    except ValueError:
        return DEFAULT_TTL


def pid_alive(pid: int) -> bool:
    """Whether process ``pid`` exists here and is not a zombie."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    with contextlib.suppress(OSError, IndexError):
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[0] != "Z"
    return True


def _parse(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        dt = datetime.fromisoformat(str(value).replace(" ", "T", 1))
    except ValueError:
        return None
    return dt if dt.tzinfo else dt.replace(tzinfo=TZ)


@dataclass
class Lease:
    runlog: RunLog
    ttl: float = field(default_factory=lease_ttl)
    clock: Callable[[], datetime] = lambda: datetime.now(TZ)
    lost: bool = False
    last_beat: float = field(default_factory=time.monotonic)
    marked_dead: list[str] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    @property
    def _table(self):
        return self.runlog.store.table("run_log")

    def _alive(self, row: dict[str, Any], server_now: datetime) -> tuple[bool, str]:
        beat = _parse(row.get("UpdatedAt")) or _parse(row.get("CreatedAt"))
        if beat is None or server_now - beat > timedelta(seconds=self.ttl):
            return False, f"超过 {int(self.ttl)} 秒没有心跳"
        if row.get("host") == host_name() and row.get("pid") and not pid_alive(int(row["pid"])):
            return False, f"进程 {row['pid']} 已不存在"
        return True, ""

    def holder(self) -> dict[str, Any] | None:
        """The row holding the lease now (marking dead holders 失败 on the way)."""
        t = self._table
        names = ["run_id", "host", "pid"]
        titles = {t.title(n): n for n in names}
        raw = t.table.all(t.where((F("flow") == self.runlog.flow) & (F("status") == RUNNING)),
                          [*titles, "CreatedAt", "UpdatedAt"])
        rows = [{titles.get(k, k): v for k, v in r.items()} for r in raw]
        mine = next((r for r in rows if r["Id"] == self.runlog.row_id), None)
        # NocoDB's own clock: the newest stamp on our row (its insert, or our last heartbeat).
        server_now = max((d for d in (_parse(mine.get("UpdatedAt")), _parse(mine.get("CreatedAt"))) if d),
                         default=self.clock()) if mine else self.clock()
        now = self.clock()
        dead, live = [], []
        for r in sorted(rows, key=lambda r: r["Id"]):
            if r["Id"] == self.runlog.row_id:
                live.append(r)
                continue
            ok, why = self._alive(r, server_now)
            if ok:
                live.append(r)
            else:
                dead.append({"Id": r["Id"], "status": FAILED, "finished_at": now,
                             "issues": f"运行已中断（{why}），由 {self.runlog.run_id} 于 {now:%Y-%m-%d %H:%M:%S} 标记为失败"})
                self.marked_dead.append(r["run_id"])
        if dead:
            t.update(dead)
        return live[0] if live else None

    def held(self) -> bool:
        h = self.holder()
        return h is not None and h["Id"] == self.runlog.row_id

    # --- heartbeat ----------------------------------------------------------------
    def start_heartbeat(self) -> None:
        self._thread = threading.Thread(target=self._beat, name=f"lease-{self.runlog.run_id}", daemon=True)
        self._thread.start()

    def stop_heartbeat(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def fresh(self) -> bool:
        """Whether this run may still send: not taken over, and a heartbeat got through
        within half the expiry (so it stops before another host could take over)."""
        return not self.lost and time.monotonic() - self.last_beat < self.ttl / 2

    def _beat(self) -> None:
        t = self._table
        while not self._stop.wait(self.ttl / 4):
            try:
                row = t.table.get(self.runlog.row_id)
                if row.get(t.title("status")) != RUNNING:
                    self.lost = True  # marked dead by another run: stop sending
                    return
                t.update([{"Id": self.runlog.row_id, "heartbeat_at": self.clock()}])
                self.last_beat = time.monotonic()
            except Exception:  # noqa: BLE001 - a beat that fails is missed, never fatal; fresh() notices
                continue
