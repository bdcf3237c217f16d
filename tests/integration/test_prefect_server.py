"""OPS-1: `prefect deploy --all` from prefect.yaml and a process worker run every flow against a
real Prefect server, on a real NocoDB base.

One test, on purpose: the server, the schema of a fresh base (applied while the server starts
and the flows are deployed) and the deployment are paid once; then every deployment is run once,
all at the same time. About 3.5–4 minutes on 2 shared cores, most of it the schema (45–90 s) and
eight flow-run processes starting side by side. The scheduler is off so no cron run competes
with ours for a deployment's concurrency slot.
"""

from __future__ import annotations

import os
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from actops_dev.catcher import free_port
from actops_dev.prefect_local import POOL, LocalPrefect

ROOT = Path(__file__).resolve().parents[2]
NOW = "2026-11-05T10:00"  # a Thursday, a workday in Beijing
PARAMETERS = {"summaries": {"params": {"month": "2026-10"}}}  # an empty month still gets its summary
REPORTS = {"summaries"}  # jobs whose run leaves a Plan.report on an empty base (audit needs a finished cycle)
RUNS_TIMEOUT = 240  # all runs, from submission to a final state
FINAL = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}


@pytest.mark.req("OPS-1")
def test_deploy_all_and_a_process_worker_run_every_flow_on_a_prefect_server(nocodb, api, prefix, smtp, tmp_path,
                                                                             monkeypatch):
    from prefect.client.orchestration import SyncPrefectClient
    from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId

    from actops.orchestration import func_name
    from actops.registry import JOBS, TIMEZONE
    from actops.schema import load_schema
    from actops.schema.sync import apply
    from actops.store import Store

    for k in list(os.environ):  # the worker gets this test's NocoDB and nothing from the caller's shell
        if k.startswith(("NOCODB_", "ACTOPS_", "SMTP_", "WECOM_")):
            monkeypatch.delenv(k)
    url, token = nocodb
    names = [j.name for j in JOBS]
    local = LocalPrefect(home=tmp_path / "prefect", root=ROOT, port=free_port())
    try:
        started = time.monotonic()
        local.start_server(scheduler=False, ui=False)
        specs = load_schema()
        with ThreadPoolExecutor(1) as pool:  # the bases, as `actops demo` applies them (no sample rows) …
            schema = pool.submit(apply, api, specs, prefix=prefix, log=lambda s: None)
            local.wait_healthy(timeout=120)  # … while the server starts and the flows are deployed
            took = {"server": time.monotonic() - started}
            local.ensure_pool()
            local.start_worker({"NOCODB_URL": url, "NOCODB_TOKEN": token, "ACTOPS_BASE_PREFIX": prefix,
                                "ACTOPS_ENV_FILE": str(tmp_path / "no.env"), "SMTP_HOST": "127.0.0.1",
                                "SMTP_PORT": str(smtp.port), "SMTP_FROM": "actops@corp.test"}, poll_seconds=2)
            local.deploy(timeout=180)
            took["deploy"] = time.monotonic() - started
            schema.result(timeout=300)
            took["schema"] = time.monotonic() - started

        with SyncPrefectClient(local.url) as client:
            deployments = {d.name: d for d in client.read_deployments()}
            assert sorted(deployments) == sorted(names)
            for j in JOBS:
                d = deployments[j.name]
                assert d.work_pool_name == POOL and d.entrypoint == f"flows/{j.name}.py:{func_name(j)}"
                assert [(s.schedule.cron, s.schedule.timezone) for s in d.schedules] == [(j.cron, TIMEZONE)]
                assert d.pull_steps == [{"prefect.deployments.steps.set_working_directory":
                                         {"directory": "{{ $ACTOPS_HOME }}"}}]  # resolved by the worker

            runs = {n: client.create_flow_run_from_deployment(deployments[n].id,
                                                              parameters={"now": NOW, **PARAMETERS.get(n, {})})
                    for n in names}
            deadline = time.monotonic() + RUNS_TIMEOUT
            while True:
                states = {n: client.read_flow_run(r.id).state for n, r in runs.items()}
                if all(s is not None and s.type.value in FINAL for s in states.values()):
                    break
                if time.monotonic() > deadline:
                    pytest.fail(f"runs not final within {RUNS_TIMEOUT}s: "
                                f"{ {n: s and s.name for n, s in states.items()} }\n{local.log('worker')[-4000:]}")
                time.sleep(2)
            bad = {n: (s.name, s.message) for n, s in states.items() if s.type.value != "COMPLETED"}
            assert not bad, f"{bad}\n{local.log('worker')[-4000:]}"
            took["runs"] = time.monotonic() - started
            print("\nOPS-1, seconds since the server was started:", {k: round(v) for k, v in took.items()})

            for n, r in runs.items():
                text = _run_logs(client, LogFilter(flow_run_id=LogFilterFlowRunId(any_=[r.id])))
                assert "set_working_directory" in text, f"{n}: the pull step is not in the run's logs:\n{text}"
                assert f"{n}: " in text, f"{n}: the job's own summary is not in the run's logs:\n{text}"
                assert "Finished in state Completed" in text, text
                arts = _artifacts(client, r.id)
                assert arts[n].type == "markdown" and "run_id" in arts[n].data, f"{n}: {sorted(arts)}"
                assert (f"{n}-report" in arts) == (n in REPORTS), f"{n}: {sorted(arts)}"
            assert "2026-10" in _artifacts(client, runs["summaries"].id)["summaries-report"].data
    finally:
        local.stop()

    # The runs acted on this base: one finished run-log row per job, written by the worker's processes.
    runs_logged = Store(api, prefix, specs).table("run_log").rows()
    assert sorted(r["flow"] for r in runs_logged) == sorted(names)
    assert all(r.get("finished_at") for r in runs_logged)


def _artifacts(client, flow_run_id) -> dict:
    from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId

    flt = FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id]))
    return {a.key: a for a in client.read_artifacts(flow_run_filter=flt)}


def _run_logs(client, log_filter, wait: float = 90) -> str:
    """A run's logs once its last line ("Finished in state …") has reached the server.

    The flow's process ships its logs in batches, apart from its state: on a loaded machine the
    run was Completed while its later lines were still on their way (seen in CI)."""
    deadline = time.monotonic() + wait
    while True:
        text = "\n".join(lg.message for lg in client.read_logs(log_filter))
        if "Finished in state" in text or time.monotonic() > deadline:
            return text
        time.sleep(1)
