"""Plan a systemskifte (model 2) against the embedded simulator, then apply it.

python examples/systemskifte_plan.py
"""

from __future__ import annotations

import sys
from datetime import date

from smdb import Reporter, eksempler, model1, model2, print_summary
from smdb.models import Kontaktforloeb
from smdb.sim import SimServer


def main() -> int:
    with SimServer() as sim:
        client = sim.client()
        active = Kontaktforloeb.model_validate(eksempler.kontaktforloeb(afsluttet_efter_dage=None))
        Reporter(client).report(active)
        print(model1(client, 101, date(2024, 12, 31)).text())
        print()
        plan = model2(client, 101, date(2024, 12, 31))
        print(plan.text())
        print_summary(plan.apply(client))
        print(f"Genregistrering til det nye system: {len(plan.genregistrering)} forløb fra 2025-01-01")
    return 0


if __name__ == "__main__":
    sys.exit(main())
