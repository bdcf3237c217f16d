"""Exactly-once delivery (REL-1) under faults, against real servers.

Every run here is the real CLI in its own process (`actops run escalations`), talking to a
real NocoDB and a real SMTP server in this process that counts what arrives by each
message's ``X-Actops-Key``. Faults: SIGKILL at chosen moments (triggered by the count of
mails received), NocoDB stopped while mail goes out, and two runs started together.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from tests.integration.test_escalations import TABLES, at, company, step

PEOPLE = 40
NOW = "2026-11-04T10:00"  # every step due 11-04 09:00: one reminder each, no manager rung yet
FINAL = ("成功", "部分成功", "失败", "跳过")


def fill(store) -> None:
    extra = [{"code": f"E{i}", "name": f"员工{i}", "department": "D01", "manager": "E3",
              "roles": "员工", "email": f"e{i}@corp.test"} for i in range(10, 10 + PEOPLE)]
    company(store, extra_people=extra)
    store.table("approval_requests").create([{"code": "AP-F", "kind": "采购", "title": "物料",
                                              "applicant": "E4", "status": "审批中"}])
    store.table("approval_steps").create([step(f"AP-F-S{i}", f"E{i}", at("2026-11-02T09:00"), request="AP-F")
                                          for i in range(10, 10 + PEOPLE)])


def env_for(url: str, token: str, prefix: str, smtp) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NOCODB_", "ACTOPS_", "SMTP_", "WECOM_"))}
    env.update(NOCODB_URL=url, NOCODB_TOKEN=token, ACTOPS_BASE_PREFIX=prefix, ACTOPS_ENV_FILE="/nonexistent",
               SMTP_HOST="127.0.0.1", SMTP_PORT=str(smtp.port), SMTP_FROM="actops@corp.test")
    return env


def start(env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "actops.cli", "run", "escalations", "--now", NOW],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def finish(proc: subprocess.Popen, timeout: float = 180) -> str:
    out, _ = proc.communicate(timeout=timeout)
    return out


def when_received(smtp, count: int, proc: subprocess.Popen, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while len(smtp.messages) < count:
        if proc.poll() is not None:
            raise AssertionError(f"the run ended before {count} mails arrived:\n{proc.stdout.read()}")
        assert time.monotonic() < deadline, "no progress"
        time.sleep(0.002)


def kill(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGKILL)
    proc.wait()  # reaped, so the next run sees the process gone


def tally(store, smtp) -> tuple[int, int, int]:
    """(messages owed, lost, duplicates) from the outbox and what the SMTP server counted."""
    owed = {r["dedupe_key"] for r in store.table("outbox").rows(fields=["dedupe_key"])}
    got = Counter(m["key"] for m in smtp.messages)
    return len(owed), len(owed - set(got)), sum(n - 1 for n in got.values())


def statuses(store) -> Counter:
    return Counter(r["status"] for r in store.table("run_log").rows(fields=["status"]))


@pytest.mark.req("REL-1", "ESC-2")
def test_sigkill_while_sending_then_rerun_loses_nothing_and_resends_at_most_one_per_kill(
        nocodb, make_store, smtp):
    store = make_store(TABLES, suffix="kill-")
    fill(store)
    env = env_for(*nocodb, store.prefix, smtp)
    smtp.clear()
    kills = 0
    for point in (3, 15, 30):
        proc = start(env)
        when_received(smtp, point, proc)
        kill(proc)
        kills += 1
    out = finish(start(env))
    assert "status 成功" in out or "status 部分成功" in out, out
    owed, lost, dups = tally(store, smtp)
    assert owed == PEOPLE and lost == 0 and dups <= kills
    assert {r["status"] for r in store.table("outbox").rows(fields=["status"])} == {"已发送"}
    runs = statuses(store)
    assert set(runs) <= set(FINAL) and runs["失败"] == kills  # each killed run marked by the next
    # And a rerun after all that sends nothing.
    finish(start(env))
    assert tally(store, smtp)[2] == dups


@pytest.mark.req("REL-1")
def test_two_runs_started_together_send_each_message_once(nocodb, make_store, smtp):
    store = make_store(TABLES, suffix="twin-")
    fill(store)
    env = env_for(*nocodb, store.prefix, smtp)
    smtp.clear()
    a = start(env)
    b = start(env)
    outs = finish(a) + finish(b)
    owed, lost, dups = tally(store, smtp)
    assert (owed, lost, dups) == (PEOPLE, 0, 0), outs
    runs = statuses(store)
    assert runs["跳过"] == 1 and runs["成功"] + runs["部分成功"] == 1, runs


@pytest.fixture(scope="module")
def own_nocodb(tmp_path_factory):
    """A NocoDB of this module's own, to stop and restart while mail goes out."""
    from actops_dev.catcher import free_port
    from actops_dev.stack import LocalStack

    data = Path(tmp_path_factory.mktemp("nocodb-outage"))
    stack = LocalStack(data_dir=data, port=free_port(), env_path=data / ".env")
    url, token = stack.up(log=lambda s: None)
    yield stack, url, token
    stack.stop()


@pytest.mark.req("REL-1")
def test_nocodb_stopped_while_sending_then_restarted_loses_nothing(own_nocodb, smtp):
    from actops.nocodb import Api
    from actops.schema import load_schema
    from actops.schema.sync import apply
    from actops.store import Store

    stack, url, token = own_nocodb
    api = Api(url, token)
    apply(api, load_schema(), prefix="outage-", only=TABLES, log=lambda s: None)
    store = Store(api, "outage-")
    fill(store)
    env = env_for(url, token, "outage-", smtp)
    smtp.clear()
    proc = start(env)
    when_received(smtp, 5, proc)
    os.killpg(stack.pid(), signal.SIGKILL)  # gone at once, as in a crash or an OOM kill
    out = finish(proc)
    assert proc.returncode != 0 and "unreachable" in out, out  # it stopped, saying why
    sent_while_down = len(smtp.messages)
    stack.pid_file.unlink()
    stack.start(log=lambda s: None)
    out = finish(start(env))
    assert "status 成功" in out or "status 部分成功" in out, out
    owed, lost, dups = tally(store, smtp)
    assert owed == PEOPLE and lost == 0 and dups <= 1, (sent_while_down, dups)
    runs = statuses(store)
    assert set(runs) <= set(FINAL) and runs["失败"] == 1, runs  # the interrupted run, marked by the rerun
