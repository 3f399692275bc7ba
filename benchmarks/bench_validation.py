"""Validation throughput against plain pydantic parsing of the same data, in the same run.

Target (issue 2): validating 20,000 full courses (a national year) in under 2 s on one core, and within 3x of
parsing alone.

    python benchmarks/bench_validation.py [N]
"""

from __future__ import annotations

import sys
from datetime import date

from _common import full_courses, measure

from smdb.models import Kontaktforloeb
from smdb.rules import validate

TODAY = date(2025, 6, 1)


def main(n: int = 20_000) -> int:
    raw = full_courses(n)
    parsed = [Kontaktforloeb.model_validate(c) for c in raw]
    assert validate(parsed, TODAY) == [], "benchmark data must be valid"

    t_parse = measure(lambda: [Kontaktforloeb.model_validate(c) for c in raw])
    t_validate = measure(lambda: validate(parsed, TODAY))
    print(f"courses: {n} (full IVÆR: 22 substance rows each)")
    print(f"baseline, pydantic parsing alone: {t_parse:6.3f} s  ({n / t_parse:8.0f} courses/s)")
    print(f"validation of every rule:         {t_validate:6.3f} s  ({n / t_validate:8.0f} courses/s)")
    print(f"parse + validate:                 {t_parse + t_validate:6.3f} s")
    print(f"validation / parsing:             {t_validate / t_parse:6.2f} x  (target <= 3 x)")
    ok = t_validate < 2.0 * n / 20_000 and t_validate <= 3 * t_parse
    print("target met" if ok else "target NOT met")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(int(sys.argv[1]) if len(sys.argv) > 1 else 20_000))
