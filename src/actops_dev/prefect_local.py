"""A Prefect server, the `actops` work pool, the deployments and a process worker on this machine.

`make prefect-local` runs :func:`main` (for a person: the UI, the schedules, Ctrl-C stops it);
the OPS-1 test (tests/integration/test_prefect_server.py) drives the same class with the
scheduler off. Every process is started in its own process group and :meth:`LocalPrefect.stop`
ends those groups, so nothing outlives it.

The deployments' pull step (`prefect.yaml`) is ``set_working_directory: {{ $ACTOPS_HOME }}``,
resolved by the worker's flow-run process at run time: the worker runs the code of the checkout
named by ACTOPS_HOME, with the Python it was started with (the project's venv). No git clone,
no image.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx

POOL = "actops"
# Variables a caller's shell may carry that would point our processes somewhere else.
_FOREIGN = ("PREFECT_API_URL", "PREFECT_API_KEY", "PREFECT_PROFILE", "PREFECT_HOME",
            "PREFECT_API_DATABASE_CONNECTION_URL")


# A process started from a background shell inherits SIGINT ignored, and the Prefect worker turns
# SIGTERM into SIGINT to itself: it would never stop (nor stop its flow runs, which it starts in
# their own sessions). Re-enabling SIGINT before exec lets stop() end it gracefully.
_WITH_SIGINT = [sys.executable, "-c", "import os, signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
                "os.execv(sys.argv[1], sys.argv[1:])"]


def prefect_bin() -> str:
    """The `prefect` of the running interpreter's environment (the project's venv)."""
    return str(Path(sys.executable).parent / "prefect")


@dataclass
class LocalPrefect:
    home: Path  # the server's SQLite file, the logs, and PREFECT_HOME when the server is ours
    root: Path  # the checkout: prefect.yaml for `deploy`, ACTOPS_HOME for the worker
    port: int = 4200
    api_url: str | None = None  # an existing server's …/api; then none is started here
    procs: dict[str, subprocess.Popen] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return self.api_url or f"http://127.0.0.1:{self.port}/api"

    def env(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        if self.api_url:  # an existing server: the caller's settings (API key, profile) as they are
            env = dict(os.environ)
        else:  # ours: nothing from the caller's profile or shell may point elsewhere
            env = {k: v for k, v in os.environ.items() if k not in _FOREIGN}
            env["PREFECT_HOME"] = str(self.home)
        env.update(PREFECT_API_URL=self.url, PREFECT_SERVER_ANALYTICS_ENABLED="false", DO_NOT_TRACK="1")
        env.update(extra or {})
        return env

    def _spawn(self, name: str, args: list[str], env: dict[str, str]) -> subprocess.Popen:
        self.home.mkdir(parents=True, exist_ok=True)
        with (self.home / f"{name}.log").open("ab") as out:
            proc = subprocess.Popen([*_WITH_SIGINT, *args], cwd=self.root, env=env, stdout=out, stderr=subprocess.STDOUT,
                                    start_new_session=True)  # its own group: stop() ends its children too
        self.procs[name] = proc
        return proc

    def log(self, name: str) -> str:
        path = self.home / f"{name}.log"
        return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""

    def start_server(self, *, scheduler: bool = True, ui: bool = True) -> subprocess.Popen:
        """`prefect server start` on loopback with its own SQLite database under ``home``."""
        env = self.env({"PREFECT_API_DATABASE_CONNECTION_URL": f"sqlite+aiosqlite:///{self.home / 'prefect.db'}"})
        args = [prefect_bin(), "server", "start", "--host", "127.0.0.1", "--port", str(self.port),
                "--analytics-off", "--scheduler" if scheduler else "--no-scheduler", "--ui" if ui else "--no-ui"]
        return self._spawn("server", args, env)

    def healthy(self) -> bool:
        try:
            return httpx.get(f"{self.url}/health", timeout=3).status_code == 200
        except httpx.HTTPError:
            return False

    def wait_healthy(self, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            server = self.procs.get("server")
            if server is not None and server.poll() is not None:
                raise RuntimeError(f"prefect server exited with {server.returncode}:\n{self.log('server')[-3000:]}")
            if self.healthy():
                return
            time.sleep(0.5)
        raise TimeoutError(f"no Prefect API at {self.url} within {timeout:.0f}s:\n{self.log('server')[-3000:]}")

    def cli(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        r = subprocess.run([prefect_bin(), *args], cwd=self.root, env=self.env(), capture_output=True, text=True,
                           timeout=timeout)
        if r.returncode != 0:
            raise RuntimeError(f"prefect {' '.join(args)} failed ({r.returncode}):\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}")
        return r

    def ensure_pool(self, timeout: float = 120) -> None:
        """The `actops` process work pool; one that exists (maybe tuned by someone) is kept."""
        r = subprocess.run([prefect_bin(), "work-pool", "create", POOL, "--type", "process"], cwd=self.root,
                           env=self.env(), capture_output=True, text=True, timeout=timeout)
        if r.returncode != 0 and "already exists" not in r.stdout + r.stderr:
            raise RuntimeError(f"prefect work-pool create {POOL} failed ({r.returncode}):\n{r.stdout[-3000:]}\n"
                               f"{r.stderr[-3000:]}")

    def deploy(self, timeout: float = 120) -> None:
        """Every deployment of prefect.yaml (`prefect deploy --all` from the checkout)."""
        self.cli("--no-prompt", "deploy", "--all", timeout=timeout)

    def start_worker(self, env: Mapping[str, str] | None = None, poll_seconds: float | None = None) -> subprocess.Popen:
        """A process worker on the pool; ``env`` is what the jobs read (NOCODB_URL, NOCODB_TOKEN, …)."""
        extra = {"ACTOPS_HOME": str(self.root), **(env or {})}
        if poll_seconds is not None:
            extra["PREFECT_WORKER_QUERY_SECONDS"] = str(poll_seconds)
        return self._spawn("worker", [prefect_bin(), "worker", "start", "--pool", POOL, "--type", "process"],
                           self.env(extra))

    def stop(self, grace: float = 10) -> None:
        """SIGTERM each started process group, SIGKILL what is left after ``grace`` seconds."""
        for proc in reversed(list(self.procs.values())):  # the worker before the server
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                continue
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=grace)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)  # children of an exited leader too
            proc.wait(timeout=grace)
        self.procs.clear()


def main() -> None:
    """`make prefect-local`: server (unless PREFECT_API_URL names one), pool, deployments, worker."""
    from actops import config

    def interrupted(signum, frame):  # `kill` stops it like Ctrl-C: worker and server with it
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupted)
    signal.signal(signal.SIGINT, interrupted)
    root = config.repo_root()
    cfg = config.nocodb()  # NOCODB_URL/TOKEN from the environment or .env (`actops up` writes it)
    existing = os.environ.get("PREFECT_API_URL")
    local = LocalPrefect(home=root / ".actops" / "prefect", root=root,
                         port=int(os.environ.get("PREFECT_LOCAL_PORT", "4200")), api_url=existing)
    try:
        if existing:
            print(f"using the Prefect server at {existing}")
        elif local.healthy():
            raise SystemExit(f"something already answers on {local.url}: set PREFECT_LOCAL_PORT to a free port, "
                             "or PREFECT_API_URL to use that server")
        else:
            print(f"starting a Prefect server on http://127.0.0.1:{local.port} (data and logs in {local.home})")
            local.start_server()
        local.wait_healthy()
        local.ensure_pool()
        local.start_worker({"NOCODB_URL": cfg.url, "NOCODB_TOKEN": cfg.token})
        print("work pool 'actops' is there; `prefect deploy --all` from prefect.yaml …")
        local.deploy()
        ui = existing.removesuffix("/api") if existing else f"http://127.0.0.1:{local.port}"
        print(f"worker on pool 'actops' is running (log: {local.home / 'worker.log'}); UI: {ui}")
        print(f"run a flow now:  PREFECT_API_URL={local.url} .venv/bin/prefect deployment run 'escalations/escalations'")
        print("Ctrl-C stops the worker" + ("" if existing else " and the server"))
        while all(p.poll() is None for p in local.procs.values()):
            time.sleep(1)
        print("a process stopped; see the logs in", local.home)
    except KeyboardInterrupt:
        pass
    finally:
        local.stop()


if __name__ == "__main__":
    main()
