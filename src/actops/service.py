"""Running a job from configuration: the NocoDB store and the channels, read at run time
(SEC-1: never at import)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from actops import config
from actops.registry import job


def store_from_env(prefix: str | None = None) -> Any:
    from actops.nocodb import Api
    from actops.store import Store

    cfg = config.nocodb()
    return Store(Api(cfg.url, cfg.token), prefix if prefix is not None else (config.get("ACTOPS_BASE_PREFIX") or ""))


def run_job(name: str, now: datetime, *, dry_run: bool = False, prefix: str | None = None,
            channels: Mapping[str, Any] | None = None, store: Any = None,
            log: Callable[[str], None] = lambda s: None, params: Mapping[str, Any] | None = None) -> Any:
    from actops.kernel import runner
    from actops.messaging.channels import channels_from_env

    entry = job(name)
    return runner.run(entry.load(), store or store_from_env(prefix), now, dry_run=dry_run,
                      channels=channels_from_env() if channels is None else channels, log=log, params=params)
