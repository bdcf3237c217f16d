"""A private PostgreSQL cluster for the local stack (dev and tests only).

The server binaries come from the machine (Debian's ``postgresql``: ``/usr/lib/postgresql/N/bin``;
``ACTOPS_PG_BIN`` names another directory). The cluster listens on 127.0.0.1 only, on a port of
its own, with trust authentication for its one role: it is for loopback use by this stack.

PostgreSQL refuses to run as root. As root, ``initdb`` and ``pg_ctl`` run as the ``postgres``
user (``runuser``), and the cluster directory belongs to it. When that user cannot reach the
stack's data directory (pytest's temporary directories are 0700 to root), the cluster lives in
a directory of its own under the system temp directory and ``<data_dir>/pg`` is a symlink to it.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from actops.errors import ConfigError
from actops_dev.catcher import free_port

ROLE = "nc"


def bin_dir() -> Path:
    """Where initdb, pg_ctl, createdb, pg_dump and psql are, all of one PostgreSQL version."""
    if os.environ.get("ACTOPS_PG_BIN"):
        return Path(os.environ["ACTOPS_PG_BIN"])

    def version(path: str) -> float:
        try:
            return float(Path(path).parent.parent.name)
        except ValueError:
            return 0.0

    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=version)
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    if initdb:
        return Path(os.path.realpath(initdb)).parent
    raise ConfigError(
        "PostgreSQL is not installed (no initdb): apt-get install -y postgresql, "
        "or set ACTOPS_PG_BIN to the directory of its programs"
    )


def _as_root() -> bool:
    return os.geteuid() == 0


@dataclass
class PgCluster:
    """One cluster in ``path`` (``path/data`` is PGDATA), started on a free port when needed."""

    path: Path

    @property
    def pgdata(self) -> Path:
        return self.path.resolve() / "data"  # the real path: postgres may not pass through a link's

    @property
    def log_file(self) -> Path:
        return self.path.resolve() / "postgres.log"

    def _run(self, prog: str, *args: str, server: bool = False, check: bool = True,
             **kw) -> subprocess.CompletedProcess:
        """Run a PostgreSQL program; server-side ones as ``postgres`` when we are root."""
        cmd = [str(bin_dir() / prog), *args]
        if server and _as_root():
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        proc = subprocess.run(cmd, capture_output=True, text=True, **kw)
        if check and proc.returncode != 0:
            raise ConfigError(f"{prog} failed ({proc.returncode}): {(proc.stderr or proc.stdout).strip()[-500:]}")
        return proc

    # -- the cluster's life ------------------------------------------------------------------

    def _make_dir(self) -> None:
        if self.path.exists() or self.path.is_symlink():
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if not _as_root():
            self.path.mkdir(mode=0o700)
            return
        reach = subprocess.run(["runuser", "-u", "postgres", "--", "test", "-x", str(self.path.parent)])
        if reach.returncode == 0:
            self.path.mkdir(mode=0o700)
            target = self.path
        else:  # the postgres user cannot get here: keep the cluster where it can, link it
            target = Path(tempfile.mkdtemp(prefix="actops-pg-"))
            self.path.symlink_to(target, target_is_directory=True)
        shutil.chown(target, "postgres", "postgres")

    def initialized(self) -> bool:
        return (self.pgdata / "PG_VERSION").exists()

    def init(self) -> None:
        """Create the cluster once (about a second); its one role is ``nc``, trusted on loopback."""
        if self.initialized():
            return
        self._make_dir()
        self._run("initdb", "-D", str(self.pgdata), "-U", ROLE, "--auth=trust", "-E", "UTF8",
                  "--locale=C.UTF-8", server=True)

    def port(self) -> int | None:
        """The port of the running server (from postmaster.pid), or None when it is not running."""
        try:
            lines = (self.pgdata / "postmaster.pid").read_text().splitlines()
        except (FileNotFoundError, PermissionError):
            return None
        if len(lines) < 4:
            return None
        try:
            os.kill(int(lines[0]), 0)
            return int(lines[3])
        except (ValueError, ProcessLookupError):
            return None
        except PermissionError:  # alive, owned by postgres
            return int(lines[3])

    def running(self) -> bool:
        return self.port() is not None

    def start(self, port: int | None = None, log: Callable[[str], None] = print) -> int:
        """Start the server (initializing it first) unless it runs; return its port."""
        self.init()
        if self.running():
            return self.port()  # type: ignore[return-value]
        port = port or free_port()
        log(f"starting PostgreSQL on 127.0.0.1:{port} (cluster in {self.path})")
        opts = f"-c listen_addresses=127.0.0.1 -p {port} -c unix_socket_directories=''"
        self._run("pg_ctl", "-D", str(self.pgdata), "-l", str(self.log_file), "-o", opts,
                  "-w", "-t", "60", "start", server=True)
        return port

    def stop(self) -> bool:
        if not self.running():
            return False
        self._run("pg_ctl", "-D", str(self.pgdata), "-m", "fast", "-w", "-t", "60", "stop", server=True)
        return True

    def remove(self) -> None:
        """Stop and delete the cluster (and its directory in the temp dir, if it has one)."""
        self.stop()
        real = self.path.resolve()
        if self.path.is_symlink():
            self.path.unlink()
        shutil.rmtree(real, ignore_errors=True)

    # -- databases ---------------------------------------------------------------------------

    def _conn(self) -> list[str]:
        port = self.port()
        if port is None:
            raise ConfigError(f"PostgreSQL in {self.path} is not running")
        return ["-h", "127.0.0.1", "-p", str(port), "-U", ROLE]

    def psql(self, sql: str, database: str = "postgres") -> str:
        """Run SQL; return its rows as text (unaligned, tuples only, '|' between columns)."""
        return self._run("psql", *self._conn(), "-d", database, "-X", "-A", "-t",
                         "-v", "ON_ERROR_STOP=1", "-c", sql).stdout

    def databases(self) -> set[str]:
        return set(self.psql("SELECT datname FROM pg_database").split())

    def create_database(self, name: str) -> bool:
        """Create the database unless it exists; say whether it was created."""
        if name in self.databases():
            return False
        self._run("createdb", *self._conn(), name)
        return True

    def drop_database(self, name: str) -> None:
        self._run("dropdb", *self._conn(), "--if-exists", name)

    def dump(self, database: str, to: Path) -> Path:
        """``pg_dump -Fc`` of one database to a file (a consistent snapshot, the server running)."""
        self._run("pg_dump", *self._conn(), "-Fc", "-f", str(to), database)
        return to

    def restore(self, dump: Path, database: str) -> None:
        """Restore a ``pg_dump -Fc`` file into a new, empty database."""
        if database in self.databases():
            raise ConfigError(f"database {database} exists; restore goes into a new one")
        self._run("createdb", *self._conn(), database)
        self._run("pg_restore", *self._conn(), "-d", database, "--no-owner", "--exit-on-error", str(dump))

    def nc_db(self, database: str) -> str:
        """NocoDB's NC_DB for a database of this cluster."""
        return f"pg://127.0.0.1:{self._conn()[3]}?u={ROLE}&p=x&d={database}"

