"""The local stack: NocoDB on loopback with SQLite under a data directory.

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

ADMIN_EMAIL = "admin@actops.local"


@dataclass
class LocalStack:
    data_dir: Path
    port: int = 8080
    env_path: Path | None = None

    @classmethod
    def default(cls) -> LocalStack:
        root = config.repo_root()
        return cls(
            data_dir=Path(os.environ.get("ACTOPS_DATA") or root / ".actops"),
            port=int(os.environ.get("ACTOPS_NOCODB_PORT", "8080")),
        )

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
        # An NC_DB given by the user (e.g. PostgreSQL) wins; otherwise NocoDB keeps its
        # SQLite file in its working directory, which is data_dir.
        log(f"starting NocoDB on {self.url} (data in {self.data_dir})")
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
