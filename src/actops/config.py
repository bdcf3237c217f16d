"""Where actops finds its configuration: process environment first, then ``.env``.

Nothing is read at import time (secrets are injected when a command runs, SEC-1).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from actops.errors import ConfigError


def repo_root() -> Path:
    env = os.environ.get("ACTOPS_HOME")
    if env:
        return Path(env)
    here = Path(__file__).resolve().parents[2]
    if (here / "schema").is_dir():
        return here
    return Path.cwd()


def env_file() -> Path:
    return Path(os.environ.get("ACTOPS_ENV_FILE") or repo_root() / ".env")


def read_env_file(path: Path | None = None) -> dict[str, str]:
    path = path or env_file()
    values: dict[str, str] = {}
    if not path.exists():
        return values
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        k, v = line.split("=", 1)
        values[k.strip()] = v.strip().strip('"').strip("'")
    return values


def write_env_file(updates: dict[str, str], path: Path | None = None) -> Path:
    path = path or env_file()
    values = read_env_file(path)
    values.update(updates)
    lines = ["# Written by `actops up`; git-ignored. Process environment overrides these."]
    lines += [f"{k}={v}" for k, v in values.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    path.chmod(0o600)
    return path


def get(name: str, default: str | None = None) -> str | None:
    if name in os.environ:
        return os.environ[name]
    return read_env_file().get(name, default)


@dataclass(frozen=True)
class NocoConfig:
    url: str
    token: str
    managed: bool  # started by `actops up` (vs. an existing NocoDB the user pointed us at)


def nocodb() -> NocoConfig:
    url, token = get("NOCODB_URL"), get("NOCODB_TOKEN")
    if not url or not token:
        raise ConfigError(
            "NOCODB_URL and NOCODB_TOKEN are not set: run `actops up` to start a local NocoDB, "
            "or set both (environment or .env) to use an existing one"
        )
    return NocoConfig(url=url, token=token, managed=get("ACTOPS_MANAGED") == "1")
