"""The run-log lease (REL-1) on the in-memory NocoDB: lowest live run holds it, dead ones
are marked 失败 by whoever looks next."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime, timedelta

import pytest

from actops.kernel.calendar import TZ
from actops.kernel.lease import Lease
from actops.kernel.runlog import FAILED, RUNNING, RunLog, host_name
from actops.nocodb.fake import FakeApi
from actops.schema import load_schema
from actops.schema.sync import apply
from actops.store import Store

NOW = datetime(2026, 11, 4, 10, tzinfo=TZ)


@pytest.fixture
def store():
    api = FakeApi()
    apply(api, load_schema(), prefix="t-", only={"run_log"}, log=lambda s: None)
    return Store(api, "t-")


def started(store, flow="escalations") -> RunLog:
    log = RunLog(store, flow, f"{flow}-{datetime.now().timestamp()}", NOW)
    log.start()
    return log


def status(store, row_id):
    return next(r["status"] for r in store.table("run_log").rows() if r["Id"] == row_id)


@pytest.mark.req("REL-1")
def test_the_first_live_run_holds_the_lease_and_the_second_yields(store):
    a, b = started(store), started(store)
    assert Lease(a).held() and not Lease(b).held()
    assert Lease(started(store, "summaries")).held()  # another job has its own lease


@pytest.mark.req("REL-1")
def test_a_run_whose_process_is_gone_is_marked_failed_and_the_next_takes_over(store):
    dead = started(store)
    gone = subprocess.Popen(["true"])
    gone.wait()
    store.table("run_log").update([{"Id": dead.row_id, "pid": gone.pid}])
    nxt = started(store)
    lease = Lease(nxt)
    assert lease.held() and lease.marked_dead == [dead.run_id]
    assert status(store, dead.row_id) == FAILED


@pytest.mark.req("REL-1")
def test_another_hosts_run_counts_until_nocodb_saw_no_heartbeat_for_the_ttl():
    """Judged on NocoDB's clock (the rows' stamps), never by comparing two hosts' clocks."""
    clock = {"t": datetime(2026, 11, 4, 2, 0, tzinfo=UTC)}
    api = FakeApi(now=lambda: clock["t"])
    apply(api, load_schema(), prefix="t-", only={"run_log"}, log=lambda s: None)
    store = Store(api, "t-")
    other = started(store)
    store.table("run_log").update([{"Id": other.row_id, "host": "elsewhere", "pid": 1}])
    clock["t"] += timedelta(seconds=60)
    mine = started(store)
    assert not Lease(mine, ttl=90).held()  # NocoDB saw it 60 s ago: alive
    clock["t"] += timedelta(seconds=60)
    store.table("run_log").update([{"Id": mine.row_id, "heartbeat_at": datetime.now(TZ)}])  # my beat
    assert Lease(mine, ttl=90).held() and status(store, other.row_id) == FAILED
    assert host_name() != "elsewhere" and status(store, mine.row_id) == RUNNING
