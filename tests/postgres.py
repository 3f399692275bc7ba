"""A throwaway PostgreSQL cluster for the tests: Debian's server binaries (``/usr/lib/postgresql/*/bin``), a data
directory and a Unix socket in a temporary directory, no TCP port. As root the server runs as the ``postgres`` user
(PostgreSQL refuses to run as root). ``SMDB_TEST_POSTGRES_URL`` points the tests at a server of one's own instead
(it must allow CREATE DATABASE). No mocks: the shared journal is tested against a real server."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path
from urllib.parse import quote

ENV_URL = "SMDB_TEST_POSTGRES_URL"


def _bindir() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).parent
    raise RuntimeError(
        "PostgreSQL's server binaries were not found (/usr/lib/postgresql/*/bin or initdb on PATH): install the "
        f"postgresql package, or set {ENV_URL} to a server the tests may create databases on"
    )


class Cluster:
    """A running cluster; :meth:`database` makes a fresh database and returns its URL."""

    def __init__(self) -> None:
        self.own = os.environ.get(ENV_URL)
        self.tmp: Path | None = None
        if self.own:
            self.admin_url = self.own
            return
        bindir = _bindir()
        self.tmp = Path(tempfile.mkdtemp(prefix="smdb-pg-"))
        data, sock = self.tmp / "data", self.tmp / "sock"
        sock.mkdir()
        as_root = os.geteuid() == 0
        prefix = ["runuser", "-u", "postgres", "--"] if as_root else []
        if as_root:
            shutil.chown(self.tmp, "postgres", "postgres")
            shutil.chown(sock, "postgres", "postgres")
        self._ctl = [*prefix, str(bindir / "pg_ctl"), "-D", str(data)]
        subprocess.run(
            [*prefix, str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "smdb", "--no-sync", "-E", "UTF8"],
            check=True,
            capture_output=True,
        )
        options = f"-k {sock} -c listen_addresses='' -c fsync=off -c max_connections=300 -c synchronous_commit=off"
        subprocess.run(
            [*self._ctl, "-o", options, "-l", str(self.tmp / "server.log"), "-w", "-t", "60", "start"],
            check=True,
            capture_output=True,
        )
        self.admin_url = f"postgresql://smdb@/postgres?host={quote(str(sock))}"

    def database(self) -> str:
        import psycopg

        name = f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        if self.own:
            base, _, query = self.own.partition("?")
            return f"{base.rsplit('/', 1)[0]}/{name}" + (f"?{query}" if query else "")
        return self.admin_url.replace("/postgres?", f"/{name}?")

    def stop(self) -> None:
        if self.tmp is None:
            return
        subprocess.run([*self._ctl, "-m", "immediate", "-w", "stop"], capture_output=True, check=False)
        shutil.rmtree(self.tmp, ignore_errors=True)
