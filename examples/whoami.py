"""The first call a vendor makes: who does SMDB think we are, and is everything set up?

python examples/whoami.py                     # against the embedded simulator
SMDB_CERT=org.p12 SMDB_CERT_PASSWORD=... python examples/whoami.py --preprod
"""

from __future__ import annotations

import os
import sys

from smdb import Environment, SmdbClient, SmdbError, auth
from smdb.sim import SimServer


def show(client: SmdbClient) -> int:
    try:
        who = client.whoami()
    except SmdbError as exc:
        print(f"WhoAmI fejlede: {exc}")
        return 1
    print(f"SMDB kender os som: {who['Subject']}")
    print(f"Organisation: {who.get('Organisation')}  CVR: {who.get('Cvr')}")
    result = client.check()
    print("\n".join(result.lines))
    return 0 if result.ok else 1


def main() -> int:
    if "--preprod" in sys.argv:
        creds = auth.load(os.environ["SMDB_CERT"], os.environ.get("SMDB_CERT_PASSWORD"))
        with SmdbClient(Environment.PREPROD, credentials=creds) as client:
            return show(client)
    with SimServer() as sim:
        print(f"(indlejret simulator på {sim.url})")
        return show(sim.client())


if __name__ == "__main__":
    sys.exit(main())
