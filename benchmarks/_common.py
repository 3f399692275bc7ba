"""Shared helpers: timing with a warm-up and a median of repeats, and realistic course data."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from datetime import date
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
