"""Code lists, models, aliases, CPR handling, derived values and the JSON Schema."""

from __future__ import annotations

from datetime import date

import pytest

from smdb import codes
from smdb import eksempler as ex
from smdb.cpr import Cpr, CprError, alder, mask, scrub
from smdb.models import FORM_FELTER, Anmodning, Kontaktforloeb
from smdb.stoffer import Stof


def test_codes_are_the_official_non_sequential_values() -> None:
    assert codes.Indtagelseshyppighed.DAGLIGT == "03"
    assert codes.Indtagelseshyppighed.UGE_4_6 == "04"
    assert codes.Koen.KVINDE == "00"
    assert [m.value for m in codes.GarantiOverskredetAarsag] == ["01", "02", "08", "04", "09", "05", "06", "07"]
    assert [m.value for m in codes.Behandlingstype] == ["01", "07", "08", "05", "03", "04", "06"]
    assert [m.value for m in codes.AfsluttetAarsag] == ["03", "02", "04", "05", "01", "09", "06", "07", "08", "10"]
    assert [m.value for m in codes.SerologiskUdredning] == ["04", "03", "02", "05", "99"]
    assert [m.value for m in codes.HepatitisAVaccination] == ["06", "07", "08", "09", "10", "99"]
    assert [m.value for m in codes.HepatitisBVaccination] == ["05", "06", "07", "08", "09", "99"]
    assert [m.value for m in codes.Hovedstof][:5] == ["02", "08", "20", "21", "22"]
    assert codes.Boligsituation.ANDET == "98"
    assert codes.Hovedindtaegtskilde.LOEN_LOESARBEJDE == "13"
    assert codes.Indtagelseshyppighed.DAGLIGT.label == "Dagligt"


def test_substance_table_has_22_substances_with_their_modes() -> None:
    assert len(Stof) == 22
    assert {m.value for m in Stof.ALKOHOL.info.modes} == {"03", "99"}
    assert {m.value for m in Stof.OPLOESNINGSMIDLER.info.modes} == {"04", "99"}
    assert {m.value for m in Stof.CANNABIS.info.modes} == {"02", "03", "99"}
    assert {m.value for m in Stof.ECSTASY.info.modes} == {"01", "02", "03", "99"}
    assert {m.value for m in Stof.ORDINERET_HEROIN.info.modes} == {"01", "03", "99"}
    assert Stof.ORDINERET_METADON.info.hovedstof is None
    assert len(FORM_FELTER["IVÆR"]) >= 22 * 5 + 35


@pytest.mark.parametrize(
    ("cpr", "born"),
    [
        ("0101901234", date(1990, 1, 1)),
        ("010190-4234", date(1990, 1, 1)),  # 7th digit 4, year 90 > 36: 1900s
        ("0101104234", date(2010, 1, 1)),  # 7th digit 4, year 10 <= 36: 2000s
        ("0101609234", date(1960, 1, 1)),  # 9, year 60 > 36: 1900s
        ("0101205234", date(2020, 1, 1)),  # 5, year <= 57: 2000s
        ("0101605234", date(1860, 1, 1)),  # 5, year >= 58: 1800s
        # the boundaries of the rule (now python-stdnum's stdnum.dk.cpr, was hand-written): 36/37 and 57/58
        ("0101364234", date(2036, 1, 1)),
        ("0101374234", date(1937, 1, 1)),
        ("0101578234", date(2057, 1, 1)),
        ("0101588234", date(1858, 1, 1)),
        ("0101003234", date(1900, 1, 1)),
    ],
)
def test_cpr_century_rule(cpr: str, born: date) -> None:
    assert Cpr(cpr).foedselsdato == born


@pytest.mark.parametrize("bad", ["3102901234", "0101901", "abcdefghij", "01019012345", "0113901234"])
def test_invalid_cpr_is_refused_without_echoing_it(bad: str) -> None:
    with pytest.raises(CprError) as exc:
        Cpr(bad)
    assert bad not in str(exc.value)


def test_cpr_is_masked_in_repr_and_text() -> None:
    c = Cpr("010190-1234")
    assert repr(c) == "Cpr('010190-****')"
    assert str(c) == "0101901234"
    assert mask("0101901234") == "010190-****"
    assert scrub("borger 0101901234 og 020290-1234") == "borger 010190-**** og 020290-****"
    anm = Anmodning.model_validate(ex.kontaktforloeb()["ANM"])
    assert "4322" not in repr(anm)


def test_age_and_days_are_derived() -> None:
    f = Kontaktforloeb.model_validate(ex.kontaktforloeb())
    assert f.dage_siden_anmodning == 9
    assert f.alder_ved_ivaerksaettelse == 34
    assert alder("0101904322", date(2024, 12, 31)) == 34
    assert alder("0101904322", date(2025, 1, 1)) == 35
    derived = f.with_derived().ivaerksaettelse
    assert derived is not None and derived.alder == 34 and derived.dage_siden_anmodning == 9


def test_models_accept_official_ascii_and_python_names_and_serialise_official() -> None:
    base = {"PersonIdentifikator": "0101904322", "PersonKoenKode": "01", "BehandlingAnmodningDato": "2024-03-01"}
    a1 = Anmodning.model_validate({**base, "PersonPsykiskFunktionsnedsættelseKode": "01"})
    a2 = Anmodning.model_validate({**base, "PersonPsykiskFunktionsnedsaettelseKode": "01"})
    a3 = Anmodning.model_validate({**base, "psykisk_lidelse": "01"})
    assert a1 == a2 == a3
    assert "PersonPsykiskFunktionsnedsættelseKode" in a1.to_official()
    course = ex.kontaktforloeb()
    course["IVAER"] = course.pop("IVÆR")
    assert Kontaktforloeb.model_validate(course).ivaerksaettelse is not None


def test_official_json_round_trips() -> None:
    f = Kontaktforloeb.model_validate(ex.kontaktforloeb(fuld_stofmatrix=True))
    again = Kontaktforloeb.model_validate(f.to_official())
    assert again == f
    assert again.ivaerksaettelse is not None
    assert all(row.komplet for row in again.ivaerksaettelse.stofbrug())


def test_schema_shows_every_official_variable_with_codes_ranges_and_lengths() -> None:
    import contextlib
    import io
    import json

    from smdb.cli import main

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        assert main(["schema"]) == 0
    schema = json.loads(buf.getvalue())
    defs = schema["$defs"]
    props = {name: p for d in defs.values() for name, p in d.get("properties", {}).items()}
    model_def = {
        "ANM": "Anmodning",
        "IVÆR": "Ivaerksaettelse",
        "TILB": "Tilbudstilknytning",
        "AFSL": "Afslutning",
        "KvalHep": "KvalHep",
        "INDS": "Indskrivning",
        "YDEL": "Ydelse",
        "UDSK": "Udskrivning",
    }
    assert set(model_def) == set(FORM_FELTER)
    for form, infos in FORM_FELTER.items():
        form_props = defs[model_def[form]]["properties"]
        for info in infos:
            assert form_props[info.variabel]["x-felt-id"] == info.felt_id, (form, info.variabel)
    text = json.dumps(defs, ensure_ascii=False)
    assert '"maxLength": 400' in text and '"maxLength": 250' in text
    cannabis = props["CannabisDageIndtagetSenesteMaanedKvantitet"]["anyOf"][0]
    assert (cannabis["minimum"], cannabis["maximum"]) == (0, 30)
    assert defs["Indtagelseshyppighed"]["enum"] == ["01", "02", "04", "03", "99"]
    assert defs["Indtagelseshyppighed"]["x-labels"]["03"] == "Dagligt"
    assert props["AlkoholTypiskIndtagelsesmaadeKode"]["anyOf"][0]["enum"] == ["03", "99"]
    # every code list of §3 is in the schema
    kode_klasser = {c for c in vars(codes).values() if isinstance(c, type) and issubclass(c, codes.Kode)}
    kode_klasser.discard(codes.Kode)
    kode_klasser.discard(codes.Indtagelsesmaade)  # inlined per substance with only its allowed codes
    assert {c.__name__ for c in kode_klasser} <= set(defs)
