"""The local stack: NocoDB on loopback with SQLite (default) or PostgreSQL under a data directory.

With ``db="pg"`` (``ACTOPS_DB=pg`` for ``actops up``) the stack keeps a private PostgreSQL
cluster in ``<data_dir>/pg`` (see ``postgres.py``), starts it on a free loopback port before
NocoDB, creates the database ``nc`` and points NocoDB's ``NC_DB`` at it; ``stop()`` stops both.
``up`` is idempotent: it installs once (cached per version), starts the server if it is
not answering, makes sure the admin and an API token exist and writes them to ``.env``.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

from actops import config
from actops.errors import ConfigError
from actops_dev import nocodb_install
from actops_dev.postgres import PgCluster

ADMIN_EMAIL = "admin@actops.local"
DATABASES = ("sqlite", "pg")


@dataclass
class LocalStack:
    data_dir: Path
    port: int = 8080
    env_path: Path | None = None
    db: str = "sqlite"  # or "pg": NocoDB's metadata and tables in a private PostgreSQL
    database: str = "nc"  # the PostgreSQL database NocoDB uses

    def __post_init__(self) -> None:
        if self.db not in DATABASES:
            raise ConfigError(f"unknown database {self.db!r} for the local stack; use one of {', '.join(DATABASES)}")

    @classmethod
    def default(cls) -> LocalStack:
        root = config.repo_root()
        return cls(
            data_dir=Path(os.environ.get("ACTOPS_DATA") or root / ".actops"),
            port=int(os.environ.get("ACTOPS_NOCODB_PORT", "8080")),
            db=os.environ.get("ACTOPS_DB") or "sqlite",
            database=os.environ.get("ACTOPS_PG_DATABASE") or "nc",
        )

    @property
    def pg(self) -> PgCluster | None:
        """The stack's PostgreSQL cluster (``<data_dir>/pg``), or None on SQLite."""
        return PgCluster(self.data_dir / "pg") if self.db == "pg" else None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid_file(self) -> Path:
        return self.data_dir / "nocodb.pid"

    @property
    def log_file(self) -> Path:
        return self.data_dir / "nocodb.log"

    def pid(self) -> int | None:
        try:
            pid = int(self.pid_file.read_text())
            os.kill(pid, 0)
            return pid
        except (FileNotFoundError, ValueError, ProcessLookupError, PermissionError):
            return None

    def healthy(self) -> bool:
        try:
            return httpx.get(f"{self.url}/api/v1/health", timeout=3).status_code == 200
        except httpx.HTTPError:
            return False

    def _password(self) -> str:
        pw_file = self.data_dir / "admin-password"
        if not pw_file.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            pw_file.write_text("Aa1!" + secrets.token_urlsafe(12))
            pw_file.chmod(0o600)
        return pw_file.read_text().strip()

    def start(self, log: Callable[[str], None] = print, timeout: float = 240) -> None:
        if self.healthy():
            if self.pid() is None:
                raise ConfigError(
                    f"something already answers on {self.url} that `actops up` did not start here "
                    f"(no {self.pid_file}); stop it or set ACTOPS_NOCODB_PORT to a free port"
                )
            return
        install = nocodb_install.install(log=log)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ)
        env.update(
            PORT=str(self.port),
            NC_HOST="127.0.0.1",
            NC_BINARY_BUILD="true",
            NC_DISABLE_TELE="true",
            NC_ALLOW_LOCAL_HOOKS="true",
            NC_AUTOMATION_LOG_LEVEL="ERROR",
            NC_ADMIN_EMAIL=ADMIN_EMAIL,
            NC_ADMIN_PASSWORD=self._password(),
            NODE_ENV="production",
        )
        # On PostgreSQL: our own cluster. Otherwise an NC_DB given by the user (e.g. an external
        # PostgreSQL) wins, or NocoDB keeps its SQLite file in its working directory, data_dir.
        if self.pg is not None:
            self.pg.start(log=log)
            self.pg.create_database(self.database)
            env["NC_DB"] = self.pg.nc_db(self.database)
        log(f"starting NocoDB on {self.url} (data in {self.data_dir}, {self.db})")
        with self.log_file.open("ab") as out:
            proc = subprocess.Popen(
                [str(nocodb_install.node_bin()), str(install / "main.js")],
                cwd=self.data_dir, env=env, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.pid_file.write_text(str(proc.pid))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise ConfigError(f"NocoDB exited with code {proc.returncode}; see {self.log_file}")
            if self.healthy():
                return
            time.sleep(1)
        raise ConfigError(f"NocoDB did not answer within {timeout:.0f}s; see {self.log_file}")

    def stop(self) -> bool:
        """Stop NocoDB (and then its PostgreSQL); say whether anything was running."""
        stopped = self._stop_nocodb()
        cluster = PgCluster(self.data_dir / "pg")  # also when started with another ACTOPS_DB
        if cluster.initialized():
            stopped = cluster.stop() or stopped
        return stopped

    def _stop_nocodb(self) -> bool:
        pid = self.pid()
        if pid is None:
            return False
        os.killpg(pid, signal.SIGTERM)
        for _ in range(50):
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.2)
        else:
            os.killpg(pid, signal.SIGKILL)
        self.pid_file.unlink(missing_ok=True)
        return True

    def signin(self) -> str:
        resp = httpx.post(
            f"{self.url}/api/v1/auth/user/signin",
            json={"email": ADMIN_EMAIL, "password": self._password()},
            timeout=30,
        )
        if resp.status_code != 200:
            raise ConfigError(f"cannot sign in as {ADMIN_EMAIL} ({resp.status_code}): {resp.text[:200]}")
        return resp.json()["token"]

    def create_token(self, description: str = "actops") -> str:
        jwt = self.signin()
        resp = httpx.post(
            f"{self.url}/api/v1/tokens",
            headers={"xc-auth": jwt},
            json={"description": description},
            timeout=30,
        )
        resp.raise_for_status()
        return resp.json()["token"]

    def token_works(self, token: str) -> bool:
        try:
            resp = httpx.get(f"{self.url}/api/v2/meta/bases", headers={"xc-token": token}, timeout=10)
        except httpx.HTTPError:
            return False
        return resp.status_code == 200

    def up(self, log: Callable[[str], None] = print, write_env: bool = True) -> tuple[str, str]:
        self.start(log=log)
        token = config.read_env_file(self.env_path).get("NOCODB_TOKEN") if write_env else None
        if not token or not self.token_works(token):
            token = self.create_token()
        if write_env:
            config.write_env_file(
                {"NOCODB_URL": self.url, "NOCODB_TOKEN": token, "ACTOPS_MANAGED": "1"}, self.env_path
            )
        return self.url, token
