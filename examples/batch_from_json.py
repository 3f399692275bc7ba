"""Report a batch of courses from a JSON file with a resumable journal.

    python examples/batch_from_json.py courses.json journal.db

Without arguments a small example file is written and reported to the embedded simulator. Run it twice
with the same journal: the second run sends nothing. A course in the file that breaks a rule (or does not even
parse) is rejected on its own, with the fields named; the rest of the batch is still reported.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

from smdb import Journal, Reporter, eksempler, print_summary
from smdb.sim import SimServer


def main() -> int:
    if len(sys.argv) >= 3:
        source, journal_path = Path(sys.argv[1]), Path(sys.argv[2])
    else:
        tmp = Path(tempfile.mkdtemp())
        source, journal_path = tmp / "courses.json", tmp / "journal.db"
        source.write_text(
            json.dumps(
                [
                    eksempler.kontaktforloeb(),
                    eksempler.kontaktforloeb(cpr=eksempler.CPR_MAND, kvinde=False, afsluttet_efter_dage=None),
                ]
            )
        )
    data = json.loads(source.read_text(encoding="utf-8"))
    with SimServer() as sim:
        client = sim.client()
        for run in (1, 2):
            print(f"Kørsel {run}:")
            summary = Reporter(client, Journal(journal_path)).report_data(data, progress=sys.stderr)
            print_summary(summary)
    return 0 if summary.ok else 1


if __name__ == "__main__":
    sys.exit(main())
