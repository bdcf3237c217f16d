"""`actops serve` as a person runs it, in a child process, for the tests that open its pages."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import datetime

import httpx


def start_serve(nocodb: tuple[str, str], prefix: str, port: int, now: datetime) -> subprocess.Popen:
    """Start ``actops serve`` on ``port`` against that NocoDB's bases named ``prefix``; return
    once /healthz answers (its output is in the error when it does not start within 60 s).
    The caller's environment (link secret, public URL) is passed on."""
    url, token = nocodb
    proc = subprocess.Popen(
        [sys.executable, "-m", "actops.cli", "serve", "--port", str(port), "--now", now.isoformat()],
        env={**os.environ, "NOCODB_URL": url, "NOCODB_TOKEN": token, "ACTOPS_BASE_PREFIX": prefix},
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).text == "ok":
                return proc
        except httpx.TransportError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            stop_serve(proc)
            raise AssertionError(f"actops serve did not start: {proc.stdout.read() if proc.stdout else ''}")
        time.sleep(0.3)  # polling a port that is not open yet


def stop_serve(proc: subprocess.Popen) -> str:
    """Stop it (terminate, then kill after 10 s); its output."""
    if proc.poll() is None:
        proc.terminate()
    try:
        return proc.communicate(timeout=10)[0] or ""
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.communicate()[0] or ""
