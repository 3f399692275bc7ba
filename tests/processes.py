"""`smdb sim serve` as a process of its own, the way a vendor's CI runs it, for the tests of the CLI against it."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


@contextmanager
def sim_serve(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *args: str, global_args: tuple[str, ...] = ()
) -> Iterator[subprocess.Popen[str]]:
    """Start ``smdb GLOBAL_ARGS sim serve --port 0 --trust tmp_path/test-cert.pem ARGS`` (the certificate written
    before by ``smdb sim cert --out tmp_path``) and point the CLI's environment at it with the settings the server
    prints. Its stderr goes to ``tmp_path/sim-serve.log`` (a pipe nobody reads would block a verbose server)."""
    command = [
        sys.executable,
        "-m",
        "smdb",
        *global_args,
        "sim",
        "serve",
        "--port",
        "0",
        "--trust",
        str(tmp_path / "test-cert.pem"),
    ]
    log = (tmp_path / "sim-serve.log").open("w")
    proc = subprocess.Popen([*command, *args], stdout=subprocess.PIPE, stderr=log, text=True)
    try:
        assert proc.stdout is not None
        proc.stdout.readline()  # the banner
        sts = "--auth" in args and args[args.index("--auth") + 1] == "sts"
        settings_lines = 2 if sts else 1  # SMDB_ENDPOINT=…, and in STS mode SMDB_AUTH=sts SMDB_STS_URL=…
        settings = dict(part.split("=", 1) for _ in range(settings_lines) for part in proc.stdout.readline().split())
        for var, value in {
            "SMDB_ENV": "local",
            "SMDB_CERT": str(tmp_path / "test-cert.pem"),
            "SMDB_KEY": str(tmp_path / "test-key.pem"),
            **settings,
        }.items():
            monkeypatch.setenv(var, value)
        yield proc
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()
        if proc.stdout is not None:
            proc.stdout.close()
