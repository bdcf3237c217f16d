"""Prefect entrypoint: hourly reminders and escalations (see actops.jobs.escalations)."""

from __future__ import annotations

from datetime import datetime

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NONE

from actops.channels import channels_from_env
from actops.jobs import escalations as job
from actops.nocodb import Api
from actops.rules.workdays import TZ
from actops.store import Store


def _store() -> Store:
    from actops import config

    cfg = config.nocodb()  # secrets read now, at run time (SEC-1)
    return Store(Api(cfg.url, cfg.token), config.get("ACTOPS_BASE_PREFIX") or "")


@task(cache_policy=NONE, retries=0)
def run_job(now: datetime, dry_run: bool) -> job.Result:
    # One task for the whole job: it reads a page per call and writes 100 rows per call;
    # per-record tasks would cost ~30 ms each in Prefect overhead alone.
    return job.run(_store(), now, dry_run=dry_run, channels=channels_from_env(),
                   log=get_run_logger().info)


@flow(name="escalations", log_prints=True)
def escalations(now: str | None = None, dry_run: bool = False) -> dict:
    moment = datetime.fromisoformat(now) if now else datetime.now(TZ)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=TZ)
    result = run_job(moment, dry_run)
    p = result.plan
    summary = {
        "run_id": result.run_id, "status": result.status, "open_items": p.items,
        "new_notices": len(p.new_notices), "issues": len(p.issues),
        "messages_sent": len(result.sent.messages), "send_failures": len(result.sent.failures),
    }
    create_markdown_artifact(
        key="escalations",
        markdown="\n".join(["| 项 | 数量 |", "|---|---|", *(f"| {k} | {v} |" for k, v in summary.items())]),
        description="escalation run summary",
    )
    return summary


if __name__ == "__main__":
    escalations()
