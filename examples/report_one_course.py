"""Report one contact course: validate locally, then send what SMDB is missing, in the required order.

python examples/report_one_course.py          # against the embedded simulator
"""

from __future__ import annotations

import sys

from smdb import Reporter, eksempler, print_summary, validate
from smdb.models import Kontaktforloeb
from smdb.sim import SimServer


def main() -> int:
    # In a case-management system this comes from your own data, in the official JSON shape.
    course = Kontaktforloeb.model_validate(eksempler.kontaktforloeb())
    problems = validate(course)
    if problems:
        for v in problems:
            print(v)
        return 1
    with SimServer() as sim:
        client = sim.client()
        summary = Reporter(client).report_many([course])
        print_summary(summary)
        (stored,) = client.hent_forloeb(course.cpr, course.kommunekode)
        print(
            f"SMDB's ids: anmodning {stored.anmodning.smdb_id}, "
            f"tilbudstilknytninger {[t.smdb_id for t in stored.tilbud]}"
        )
        return 0 if summary.ok else 1


if __name__ == "__main__":
    sys.exit(main())
