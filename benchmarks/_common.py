"""Shared helpers: timing with a warm-up and a median of repeats, and realistic course data."""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

from smdb import eksempler as ex


def cpr_for(i: int) -> str:
    day, month, year = 1 + i % 28, 1 + (i // 28) % 12, 50 + (i // 336) % 40
    return f"{day:02d}{month:02d}{year:02d}{1000 + i % 3000:04d}"


def full_courses(n: int) -> list[dict[str, Any]]:
    """n complete courses (all 22 substance rows answered), distinct citizens, two municipalities."""
    return [
        ex.kontaktforloeb(
            cpr=cpr_for(i),
            kommunekode=101 + (i % 2) * 46,
            fuld_stofmatrix=True,
            anmodningsdato=date(2024, 1, 1 + i % 28),
        )
        for i in range(n)
    ]


def measure(fn: Callable[[], Any], repeats: int = 3) -> float:
    """Median wall time of ``repeats`` runs after one warm-up run."""
    fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


@contextmanager
def sim_serve(latency_ms: int, trust: Path, *extra: str) -> Iterator[dict[str, str]]:
    """``smdb sim serve --latency MS --trust CERT [EXTRA…]`` in a process of its own; yields the settings it prints
    (``SMDB_ENDPOINT``)."""
    command = [sys.executable, "-m", "smdb", "sim", "serve", "--port", "0", "--latency", str(latency_ms)]
    proc = subprocess.Popen(
        [*command, "--trust", str(trust), *extra], stdout=subprocess.PIPE, text=True, stderr=subprocess.DEVNULL
    )
    try:
        assert proc.stdout is not None
        proc.stdout.readline()  # the banner
        yield dict(part.split("=", 1) for part in proc.stdout.readline().split())
    finally:
        proc.terminate()
        proc.wait(timeout=10)
