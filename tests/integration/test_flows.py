"""The Prefect flow and the CLI around the escalation job, on the real stack."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.integration.test_escalations import TABLES, at, company, step


@pytest.fixture(scope="module")
def store(make_store):
    s = make_store(TABLES)
    company(s)
    s.table("approval_requests").create([{"code": "AP-1", "kind": "采购", "title": "物料", "applicant": "E4", "status": "审批中"}])
    s.table("approval_steps").create([step("AP-1-S1", "E4", at("2026-11-02T09:00"))])
    return s


def _env(nocodb, store, smtp):
    url, token = nocodb
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NOCODB_", "ACTOPS_", "SMTP_", "WECOM_"))}
    env.update(NOCODB_URL=url, NOCODB_TOKEN=token, ACTOPS_BASE_PREFIX=store.prefix, ACTOPS_ENV_FILE="/nonexistent",
               SMTP_HOST="127.0.0.1", SMTP_PORT=str(smtp.port), SMTP_FROM="actops@corp.test")
    return env


@pytest.mark.req("ESC-2")
def test_cli_dry_run_prints_and_writes_nothing(nocodb, store, smtp):
    smtp.clear()
    r = subprocess.run([sys.executable, "-m", "actops.cli", "run", "escalations", "--now", "2026-11-05T10:00",
                        "--dry-run", "--prefix", store.prefix],
                       capture_output=True, text=True, env=_env(nocodb, store, smtp), timeout=120)
    assert r.returncode == 0, r.stderr
    assert "dry run" in r.stdout and "员工甲（E4）" in r.stdout and "主管（E3）" in r.stdout
    assert smtp.messages == []
    assert store.table("outbox").rows() == [] and store.table("run_log").rows() == []
    assert store.table("approval_steps").rows()[0].get("escalation_level") in (None, 0)


@pytest.mark.req("ESC-2", "SEC-1", "SEC-4")
def test_prefect_flow_runs_the_job_once_and_a_rerun_sends_nothing(nocodb, store, smtp, monkeypatch):
    from prefect.testing.utilities import prefect_test_harness

    for k, v in _env(nocodb, store, smtp).items():
        monkeypatch.setenv(k, v)
    from flows.escalations import escalations

    smtp.clear()
    # The ephemeral server migrates a fresh SQLite before it answers: on two cores beside a busy
    # test NocoDB that took longer than Prefect's default 30 s once (CI, 2026-11-24).
    with prefect_test_harness(server_startup_timeout=180):
        first = escalations(now="2026-11-05T10:00")
        second = escalations(now="2026-11-05T10:30")
    assert first["messages_sent"] == 2 and second["messages_sent"] == 0
    assert sorted(m["to"][0] for m in smtp.messages) == ["e3@corp.test", "e4@corp.test"]
    runs = store.table("run_log").rows()
    assert len(runs) == 2 and all(r["run_id"].startswith("escalations-") for r in runs)
