"""The per-form table is the single source: the contract, the mapping, the client, the simulator and the CLI
look things up in it, and nothing else spells an id element."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from smdb import eksempler as ex
from smdb.client import SmdbClient
from smdb.errors import ConfigurationError
from smdb.forms import FORMS, Form, spec_of
from smdb.models import Kontaktforloeb
from smdb.reporting import Reporter
from smdb.sim import SimServer
from smdb.soap.contract import COMPLEX_TYPES, OPERATIONS

SRC = Path(__file__).resolve().parents[1] / "src" / "smdb"


def test_nothing_but_the_models_spells_an_id_element() -> None:
    """``"IvaerksaettelseId"`` appeared 18 times in 4 modules; now the model defines it and the table hands it out."""
    names = {spec.id_element for spec in FORMS.values()}
    pattern = re.compile(r"[\"'](" + "|".join(sorted(names)) + r")[\"']")
    offenders = [
        f"{path.relative_to(SRC)}:{n}"
        for path in SRC.rglob("*.py")
        if "models" not in path.parts
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if pattern.search(line)
    ]
    assert offenders == []


@pytest.mark.parametrize("form", list(Form))
def test_the_contract_is_generated_from_the_table(form: Form) -> None:
    spec = FORMS[form]
    elements = [e.name for e in COMPLEX_TYPES[spec.wire_name]]
    assert spec.id_element in elements
    if spec.parent_id_element:
        assert elements[0] == spec.parent_id_element
    if spec.hent:
        assert OPERATIONS[spec.hent].result is not None
        assert OPERATIONS[spec.hent].result.type == f"ArrayOf{spec.wire_name}"  # type: ignore[union-attr]
    write = OPERATIONS[spec.indsaet]
    assert write.writes and spec.wire_name in [e.name for e in write.request]
    assert spec_of(spec.model) is spec


def test_generic_hent_and_indsaet_refuse_what_the_table_says_cannot_be(client: SmdbClient) -> None:
    course = Kontaktforloeb.model_validate(ex.kontaktforloeb())
    with pytest.raises(ConfigurationError, match="hentes med sin overordnede"):
        client.hent(Form.AFSL, cpr="0101904322")
    assert course.ivaerksaettelse is not None
    with pytest.raises(ConfigurationError, match="sendes med sin anmodning"):
        client.indsaet(course.ivaerksaettelse, 1)
    with pytest.raises(ConfigurationError, match="IvaerksaettelseId"):
        client.indsaet(course.tilbud[0])


def test_generic_hent_returns_every_form_of_a_reported_course(sim: SimServer, client: SmdbClient) -> None:
    course = Kontaktforloeb.model_validate(ex.kontaktforloeb(cpr="0101904322", kommunekode=101))
    assert Reporter(client).report_many([course.to_official()]).count("sent") == 1  # a dict works like a model
    anm = client.hent(Form.ANM, cpr="0101904322")
    assert len(anm) == 1 and anm[0].afslutning is not None  # AFSL comes nested, as the table says
    iv = client.hent(Form.IVAER, anmodning_id=anm[0].record.smdb_id)
    assert len(iv) == 1 and iv[0].anmodning_id == anm[0].record.smdb_id
    for form in (Form.TILB, Form.KVALHEP):
        found = client.hent(form, ivaerksaettelse_id=iv[0].record.smdb_id)
        assert found and all(h.ivaerksaettelse_id == iv[0].record.smdb_id for h in found)
