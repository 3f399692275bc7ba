"""Corrections are updates (§1.2 "Alle ændrede data indberettes via Indsæt data service"), not deletions.

The case system often does not keep SMDB's ids. Stored and intended records are matched by SMDB id first, by
natural key second, and last by what can only be the same record (the same tilbud; the citizen's one active
course, §6.1.2); only what is really missing from the case system is refused as a deletion (§5.1).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from smdb import eksempler as ex
from smdb.client import SmdbClient
from smdb.models import Kontaktforloeb
from smdb.reporting import Reporter
from smdb.sim import SimServer


def course(data: dict[str, Any]) -> Kontaktforloeb:
    return Kontaktforloeb.model_validate(data)


def stored_tilb(client: SmdbClient) -> list[tuple[int, str, str, str]]:
    (f,) = client.hent_forloeb(ex.CPR_KVINDE, 101)
    return sorted((t.tilbud_id, str(t.startdato), t.behandlingstype.value, t.intensitet.value) for t in f.tilbud)


def test_offer_start_date_type_and_intensity_corrected_without_ids(sim: SimServer, client: SmdbClient) -> None:
    r = Reporter(client)
    data = ex.kontaktforloeb(afsluttet_efter_dage=None)
    assert r.report(course(data)).status == "sent"
    start = date.fromisoformat(data["TILB"][0]["TilbudTilknyttetBehandlingStartDato"])
    data["TILB"][0]["TilbudTilknyttetBehandlingStartDato"] = (start + timedelta(days=3)).isoformat()
    data["TILB"][0]["BehandlingTypeKode"] = "06"
    data["TILB"][0]["BehandlingIntensitetKode"] = "02"
    out = r.report(course(data))
    assert out.status == "sent", out
    assert out.sent == ["ret tilbud 1002"]
    assert sim.app.store.count("TILB") == 2
    assert (1002, str(start + timedelta(days=3)), "06", "02") in stored_tilb(client)
    assert r.report(course(data)).status == "already"


def test_an_offer_missing_from_the_case_system_is_still_a_deletion(sim: SimServer, client: SmdbClient) -> None:
    r = Reporter(client)
    data = ex.kontaktforloeb(afsluttet_efter_dage=None)
    assert r.report(course(data)).status == "sent"
    # the same tilbud twice in SMDB, once in the case system: one of them would have to be deleted
    second = dict(data["TILB"][0], TilbudTilknyttetBehandlingStartDato="2024-04-01")
    data["TILB"].append(second)
    assert r.report(course(data)).status == "sent"
    del data["TILB"][0]
    out = r.report(course(data))
    assert out.status == "refused"
    assert out.reason is not None and "SMDB-web" in out.reason
    assert sim.app.store.count("TILB") == 3


def test_corrected_anmodningsdato_of_the_active_course_without_ids(sim: SimServer, client: SmdbClient) -> None:
    r = Reporter(client)
    data = ex.kontaktforloeb(afsluttet_efter_dage=None)
    assert r.report(course(data)).status == "sent"
    data["ANM"]["BehandlingAnmodningDato"] = "2024-02-27"
    out = r.report(course(data))
    assert out.status == "sent" and out.sent == ["ret anmodning/iværksættelse"]
    (after,) = client.hent_forloeb(ex.CPR_KVINDE, 101)
    assert after.anmodningsdato == date(2024, 2, 27)
    assert sim.app.store.count("ANM") == 1


def test_a_closed_course_is_never_matched_by_overlap(sim: SimServer, client: SmdbClient) -> None:
    """Matching a closed course by its period could rewrite a finished course's history: it needs its id."""
    r = Reporter(client)
    closed = ex.kontaktforloeb()
    assert r.report(course(closed)).status == "sent"
    overlapping = ex.kontaktforloeb(anmodningsdato=date(2024, 3, 20), afsluttet_efter_dage=None)
    out = r.report(course(overlapping))
    # not a correction of the closed course, and not a course of its own either: anmodet while the closed one was
    # still active, it would make two courses active at once (§6.1.2, register rule en_aktiv_ad_gangen)
    assert out.status == "rejected_server" and "ét aktivt kontaktforløb" in (out.reason or ""), out
    (first,) = client.hent_forloeb(ex.CPR_KVINDE, 101)
    assert first.anmodningsdato == date(2024, 3, 1) and first.afslutning is not None  # untouched


def test_a_second_anmodning_sharing_nothing_is_not_taken_for_a_correction(sim: SimServer, client: SmdbClient) -> None:
    """Two open courses in the case system must not flip one stored anmodning back and forth each night."""
    r = Reporter(client)
    data = ex.kontaktforloeb(afsluttet_efter_dage=None, dage_til_ivaerksaettelse=None)  # only an anmodning
    assert r.report(course(data)).status == "sent"
    second = ex.kontaktforloeb(afsluttet_efter_dage=None, dage_til_ivaerksaettelse=None)
    second["ANM"]["BehandlingAnmodningDato"] = "2024-05-01"
    out = r.report(course(second))
    assert out.status == "rejected_local" and [v.code for v in out.violations] == ["en_aaben_anmodning"]
    (stored,) = client.hent_forloeb(ex.CPR_KVINDE, 101)
    assert stored.anmodningsdato == date(2024, 3, 1)


def test_a_correction_that_cannot_be_sent_write_by_write_is_refused_before_anything_is_sent(
    sim: SimServer, client: SmdbClient
) -> None:
    """Moving the iværksættelse date moves the offers starting on it (§6.1.4): whichever write goes first, SMDB
    would refuse it. Refused locally with the manual route; nothing half-sent."""
    r = Reporter(client)
    data = ex.kontaktforloeb(afsluttet_efter_dage=None)
    assert r.report(course(data)).status == "sent"
    before = client.hent_forloeb(ex.CPR_KVINDE, 101)
    iv = date.fromisoformat(data["IVÆR"]["IvaerksatBehandlingDato"])
    data["IVÆR"]["IvaerksatBehandlingDato"] = (iv - timedelta(days=1)).isoformat()
    for t in data["TILB"]:
        t["TilbudTilknyttetBehandlingStartDato"] = (iv - timedelta(days=1)).isoformat()
    out = r.report(course(data))
    assert out.status == "refused" and out.sent == []
    assert out.reason is not None and "SMDB-web" in out.reason and "[1-IVÆR]" in out.reason
    assert client.hent_forloeb(ex.CPR_KVINDE, 101) == before


def test_an_ivaerksaettelse_correction_that_keeps_the_rules_is_an_update(sim: SimServer, client: SmdbClient) -> None:
    r = Reporter(client)
    data = ex.kontaktforloeb(afsluttet_efter_dage=None)
    assert r.report(course(data)).status == "sent"
    data["IVÆR"]["BehandlingFormaalKode"] = "01"
    out = r.report(course(data))
    assert out.status == "sent" and out.sent == ["ret anmodning/iværksættelse"]
    (after,) = client.hent_forloeb(ex.CPR_KVINDE, 101)
    assert after.ivaerksaettelse is not None and after.ivaerksaettelse.formaal is not None
    assert after.ivaerksaettelse.formaal.value == "01"
    assert sim.app.store.count("IVÆR") == 1
