"""prefect.yaml names real entrypoints with cron schedules in Asia/Shanghai."""

from __future__ import annotations

import importlib.util
from pathlib import Path

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
