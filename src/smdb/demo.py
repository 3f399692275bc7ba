"""``smdb demo``: the whole library end to end on one machine, against the embedded simulator.

It starts the simulator on a free loopback port, trusts a freshly generated test certificate, reports a
few realistic courses (one is rejected locally with a readable rule violation, so nothing of it is
sent), reports them again (nothing is sent twice), and fetches them back.
"""

from __future__ import annotations

from datetime import date
from typing import TextIO

from smdb import eksempler as ex
from smdb.cpr import mask
from smdb.models import Kontaktforloeb
from smdb.output import print_summary
from smdb.reporting import Reporter
from smdb.sim import SimServer


def demo_courses() -> list[Kontaktforloeb]:
    """Four courses: closed substitution course, open course, one with an error, one never started."""
    closed = ex.kontaktforloeb(cpr=ex.CPR_KVINDE, anmodningsdato=date(2025, 3, 3))
    open_ = ex.kontaktforloeb(
        cpr=ex.CPR_MAND, kvinde=False, anmodningsdato=date(2025, 9, 1), afsluttet_efter_dage=None, substitution=False
    )
    broken = ex.kontaktforloeb(cpr="2010754321", kvinde=False, anmodningsdato=date(2025, 10, 6))
    del broken["TILB"][1]["AutorisationKodeTekst"]  # methadone without the doctor's authorisation id
    never_started = ex.kontaktforloeb(
        cpr="1203991238",
        kvinde=False,
        anmodningsdato=date(2025, 5, 12),
        dage_til_ivaerksaettelse=None,
        afsluttet_efter_dage=20,
    )
    return [Kontaktforloeb.model_validate(c) for c in (closed, open_, broken, never_started)]


def run(out: TextIO, auth: str = "certificate") -> int:
    mode = "NemLog-in STS (simuleret), holder-of-key" if auth == "sts" else "organisationscertifikat"
    out.write(f"SMDB-demo: indlejret simulator, testcertifikat, fire kontaktforløb; godkendelse: {mode}\n\n")
    with SimServer(auth=auth) as sim:
        client = sim.client()
        who = client.whoami()
        out.write(f"Simulator: {sim.url}\nWhoAmI: {who['Organisation']} (CVR {who['Cvr']})\n")
        out.write(f"TokenTest Echo: {client.echo('hej SMDB')}\n")
        if client.sts_provider is not None:
            token = client.sts_provider.token()
            out.write(f"STS-token {token.assertion_id} til {token.audience}, udløber {token.expires:%Y-%m-%d %H:%M}\n")
        out.write("\n")
        courses = demo_courses()
        reporter = Reporter(client)

        out.write("1) Indberetning\n")
        first = reporter.report_many(courses)
        print_summary(first, stream=out)

        out.write("\n2) Samme forløb igen (intet må sendes to gange)\n")
        second = reporter.report_many(courses)
        print_summary(second, stream=out)

        out.write("\n3) Hentet tilbage fra SMDB\n")
        for f in courses:
            for stored in client.hent_forloeb(f.cpr, f.kommunekode):
                iv = stored.ivaerksaettelse
                out.write(
                    f"  {mask(stored.cpr)} anmodning {stored.anmodningsdato} (id {stored.anmodning.smdb_id}): "
                    f"iværksat {iv.ivaerksat_dato if iv else '-'}, {len(stored.tilbud)} tilbud, "
                    f"KvalHep {'ja' if stored.kvalhep else 'nej'}, "
                    f"{'afsluttet ' + str(stored.afslutning.afsluttet_dato) if stored.afslutning else 'aktiv'}\n"
                )
        out.write(f"\nSimulatoren har {sim.app.store.count()} skemaer gemt.\n")
        expected = ["sent", "sent", "rejected_local", "sent"]
        ok = [o.status for o in first.outcomes] == expected and second.count("already") == 3
        out.write("Demo gennemført som forventet.\n" if ok else "Demo gav et uventet resultat.\n")
        return 0 if ok else 1
