"""prefect.yaml names real entrypoints with cron schedules in Asia/Shanghai."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


def test_every_deployment_points_at_a_flow_with_a_shanghai_cron():
    conf = yaml.safe_load((ROOT / "prefect.yaml").read_text(encoding="utf-8"))
    names = {d["name"] for d in conf["deployments"]}
    assert "escalations" in names
    for d in conf["deployments"]:
        path, func = d["entrypoint"].split(":")
        spec = importlib.util.spec_from_file_location(f"flow_{d['name']}", ROOT / path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        flow = getattr(module, func)
        assert flow.name == d["name"]
        for s in d["schedules"]:
            assert s["timezone"] == "Asia/Shanghai" and len(s["cron"].split()) == 5


@pytest.mark.req("OPS-1")
def test_flows_and_prefect_yaml_are_what_the_registry_generates():
    from actops.orchestration import flow_source, prefect_yaml
    from actops.registry import JOBS

    assert (ROOT / "prefect.yaml").read_text(encoding="utf-8") == prefect_yaml(), "run `actops deployments write`"
    for j in JOBS:
        assert (ROOT / "flows" / f"{j.name}.py").read_text(encoding="utf-8") == flow_source(j)
    assert sorted(p.stem for p in (ROOT / "flows").glob("*.py")) == sorted(j.name for j in JOBS)


def test_every_registered_job_is_a_cli_command_and_loads():
    from typer.testing import CliRunner

    from actops.cli import app
    from actops.registry import JOBS

    out = CliRunner().invoke(app, ["run", "--help"]).output
    for j in JOBS:
        assert j.name in out
        job = j.load()
        assert job.name == j.name and job.watched and job.note_tag
