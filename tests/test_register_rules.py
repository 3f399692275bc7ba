"""Each declared register rule (smdb.rules.register) is refused by the simulator, by name, with its section."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest

from smdb import eksempler as ex
from smdb.client import SmdbClient
from smdb.errors import SmdbFault, ValidationFailed
from smdb.forms import Form, id_element
from smdb.models import Indskrivningsforloeb, Kontaktforloeb
from smdb.reporting import Reporter
from smdb.rules.register import REGISTER_REGLER, RegisterRegel
from smdb.soap import mapping
from smdb.soap.contract import OPERATIONS


def course(cpr: str = "0101904322", **kw: object) -> Kontaktforloeb:
    return Kontaktforloeb.model_validate(ex.kontaktforloeb(cpr=cpr, kommunekode=101, **kw))  # type: ignore[arg-type]


def _unknown_id(c: SmdbClient) -> None:
    kvalhep = course().kvalhep
    assert kvalhep is not None
    c.indsaet_kvalhep(kvalhep, 999, validate_first=False)


def _other_course(c: SmdbClient) -> None:
    Reporter(c).report(course("0101904322"))
    Reporter(c).report(course("0202804321"))
    (a,) = c.hent_forloeb("0101904322", 101)
    (b,) = c.hent_forloeb("0202804321", 101)
    assert a.ivaerksaettelse is not None and a.ivaerksaettelse.smdb_id is not None
    stranger = b.tilbud[0]  # carries the id of a record of B's course
    c.indsaet_tilbudstilknytning(stranger, a.ivaerksaettelse.smdb_id, validate_first=False)


def _no_kommunekode(c: SmdbClient) -> None:
    anm = course().anmodning.model_copy(update={"kommunekode": None})
    c.call("IndsaetIvaerksaettelse", Anmodning=mapping.to_wire(anm))


def _changed_cpr(c: SmdbClient) -> None:
    r = c.indsaet_ivaerksaettelse(course())
    anm = course("0202804321").anmodning.model_copy(update={"smdb_id": r.anmodning_id, "kommunekode": 101})
    c.call("IndsaetIvaerksaettelse", Anmodning=mapping.to_wire(anm))


def _no_deletion(c: SmdbClient) -> None:
    """Structural: the contract has no operation that deletes, and the workflow refuses a plan that needs one."""
    assert not [op for op in OPERATIONS if op.startswith(("Slet", "Delete", "Fjern"))]
    Reporter(c).report(course())
    outcome = Reporter(c).report(course().model_copy(update={"kvalhep": None}))  # SMDB holds a KvalHep
    assert outcome.status == "refused" and "§5.1" in (outcome.reason or "")


def _discharged_twice(c: SmdbClient) -> None:
    lf = Indskrivningsforloeb.model_validate(ex.indskrivningsforloeb())
    c.indsaet_indskrivning(lf.indskrivning)
    (hentet,) = c.hent_indskrivninger(cpr=lf.indskrivning.cpr)
    assert lf.udskrivning is not None
    c.afslut_indskrivning(lf.udskrivning, hentet, lf.ydelser, validate_first=False)
    c.afslut_indskrivning(lf.udskrivning, hentet, lf.ydelser, validate_first=False)


def _asi_after_2019(c: SmdbClient) -> None:
    r = c.indsaet_ivaerksaettelse(course())
    c.indsaet_asi({id_element(Form.ANM): r.anmodning_id, "AsiDato": date(2024, 3, 1), "AsiData": "<asi/>"})


def _asi_without_reference(c: SmdbClient) -> None:
    c.indsaet_asi({"AsiDato": date(2019, 3, 1), "AsiData": "<asi/>"})


def _unknown_tilbud(c: SmdbClient) -> None:
    r = c.indsaet_ivaerksaettelse(course())
    assert r.ivaerksaettelse_id is not None
    stranger = course().tilbud[0].model_copy(update={"tilbud_id": 4242})
    c.indsaet_tilbudstilknytning(stranger, r.ivaerksaettelse_id, validate_first=False)


def _unknown_country(c: SmdbClient) -> None:
    f = course()
    assert f.ivaerksaettelse is not None
    iv = f.ivaerksaettelse.model_copy(update={"statsborgerskab": "1234"})
    c.indsaet_ivaerksaettelse(f.model_copy(update={"ivaerksaettelse": iv}), validate_first=False)


def _two_active_at_once(c: SmdbClient) -> None:
    """A closed course, then a new anmodning dated inside its period (the local warning says so; SMDB refuses)."""
    from tests.test_advarsler import two

    first, second = (Kontaktforloeb.model_validate(d) for d in two(date(2024, 5, 1)))
    r = c.indsaet_ivaerksaettelse(first, validate_first=False)
    assert first.afslutning is not None and r.anmodning_id is not None
    c.afslut_behandling(first.afslutning, r.anmodning_id, validate_first=False)
    c.indsaet_ivaerksaettelse(second, validate_first=False)


CASES: dict[str, Callable[[SmdbClient], None]] = {
    "en_aktiv_ad_gangen": _two_active_at_once,
    "tilbud_findes": _unknown_tilbud,
    "land_findes": _unknown_country,
    "id_findes": _unknown_id,
    "id_i_forloebet": _other_course,
    "kommunekode_angivet": _no_kommunekode,
    "cpr_uaendret": _changed_cpr,
    "ingen_sletning": _no_deletion,
    "en_udskrivning": _discharged_twice,
    "asi_foer_2019": _asi_after_2019,
    "asi_henvisning": _asi_without_reference,
}


def test_every_register_rule_has_a_case() -> None:
    assert set(REGISTER_REGLER) == set(CASES)


@pytest.mark.parametrize("code", sorted(CASES))
def test_register_rule_is_refused_by_the_simulator(client: SmdbClient, code: str) -> None:
    rule: RegisterRegel = REGISTER_REGLER[code]
    if code == "ingen_sletning":  # enforced by the contract itself: there is nothing to send
        CASES[code](client)
        return
    with pytest.raises(SmdbFault) as exc:
        CASES[code](client)
    assert (exc.value.code, exc.value.rule) == (rule.fejlkode, rule.afsnit)
    assert rule.beskrivelse in exc.value.message


def test_unknown_lookups_are_refused_locally_before_anything_is_sent(client: SmdbClient) -> None:
    """§1.2: fetch the lookup lists first; an unknown TilbudId or landekode is the municipality's to fix, at once."""
    f = course()
    assert f.ivaerksaettelse is not None
    bad = f.model_copy(
        update={
            "tilbud": [f.tilbud[0].model_copy(update={"tilbud_id": 4242}), f.tilbud[1]],
            "ivaerksaettelse": f.ivaerksaettelse.model_copy(update={"statsborgerskab": "1234"}),
        }
    )
    outcome = Reporter(client).report(bad)
    assert outcome.status == "rejected_local"
    assert sorted(v.code for v in outcome.violations) == ["land_findes", "tilbud_findes"]
    writes = {op: n for op, n in client.call_counts().items() if not op.startswith("Hent")}
    assert writes == {}
    assert Reporter(client).report(course("0202804321")).status == "sent"
    counts = client.call_counts()
    assert counts["HentAlleTilbud"] == 1 and counts["HentLandeliste"] == 1  # cached for the client's run
    (stored,) = client.hent_forloeb("0202804321", 101)
    assert stored.ivaerksaettelse is not None and stored.ivaerksaettelse.smdb_id is not None
    with pytest.raises(ValidationFailed, match="tilbud_findes"):
        client.indsaet_tilbudstilknytning(bad.tilbud[0], stored.ivaerksaettelse.smdb_id)
