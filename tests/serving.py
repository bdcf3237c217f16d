"""`actops serve` as a person runs it, in a child process, for the tests that open its pages."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx


class Served:
    def __init__(self, proc: subprocess.Popen, url: str, log: Path) -> None:
        self.proc, self.url, self.log = proc, url, log

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=40)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def never_quiet(store) -> None:
    """Turn quiet hours off in that base's 系统设置.

    A served job runs at the wall clock's time: after 21:00 Shanghai the policy holds non-urgent
    notices until morning, so a test that waits for one would fail by the hour it runs
    (test_escalations shows quiet hours on their own)."""
    settings = store.table("settings")
    quiet = next(r for r in settings.rows(fields=["key"]) if r["key"] == "quiet_hours")
    settings.update([{"Id": quiet["Id"], "value": "00:00-00:00"}])  # an empty window: never quiet


def nocodb_env(nocodb: tuple[str, str], prefix: str, **extra: str) -> dict[str, str]:
    """The environment that points `actops` at that NocoDB's bases named ``prefix``."""
    return {"NOCODB_URL": nocodb[0], "NOCODB_TOKEN": nocodb[1], "ACTOPS_BASE_PREFIX": prefix, **extra}


def start_serve(env: dict[str, str], home: Path, port: int, *args: str) -> Served:
    """`actops serve` in its own process (log in a file, never a pipe), answering /healthz.

    ``env`` is added to this process's environment (link secret and public URL included);
    ``args`` go to the command (``--now …``)."""
    log = home / "serve.log"
    with log.open("wb") as sink:  # a file, not a pipe: the service never blocks on its log
        proc = subprocess.Popen([sys.executable, "-m", "actops.cli", "serve", "--port", str(port), *args],
                                env={**os.environ, **env}, stdout=sink, stderr=subprocess.STDOUT)
    s = Served(proc, f"http://127.0.0.1:{port}", log)
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{s.url}/healthz", timeout=2).text == "ok":
                return s
        except httpx.TransportError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            s.stop()
            raise AssertionError(f"actops serve did not start: {s.output()}")
        time.sleep(0.3)  # polling a port that is not open yet
