"""Systemskifte: a municipality changing reporting system (DST's guide, and §7 of the Kravspecifikation).

* Model 1 (keep history): the active courses must be deleted in SMDB, which the webservice cannot do
  (§5.1). We produce the list for DST (smdb@dst.dk) in the guide's order, deleting "bagfra" (KvalHep,
  tilbudstilknytninger, iværksættelse, anmodning), and the courses to re-enter with their original dates.
* Model 2 (no history): every active course is closed at the cut-over date: open tilbudstilknytninger get
  that end date, then AFSL with årsag 10 "Anden" and the text "Systemskifte". The new system registers the
  courses again starting the day after; we write that re-registration plan.

Without ``apply`` nothing is sent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from smdb.client import SmdbClient
from smdb.codes import AfsluttetAarsag, AfsluttetStatus
from smdb.cpr import mask
from smdb.forms import FORMS, Form, id_element
from smdb.models import Afslutning, Kontaktforloeb
from smdb.register import aendringens_brud, saml_forloeb
from smdb.reporting import Reporter, Summary

SYSTEMSKIFTE_TEKST = "Systemskifte"


def aktive_forloeb(client: SmdbClient, kommunekode: int) -> list[Kontaktforloeb]:
    """DST's "Borgere med igangværende kontaktforløb": courses of the municipality with no AFSL."""
    out: list[Kontaktforloeb] = []
    for anm in client.hent_anmodninger(kommunekode=kommunekode):
        if anm.afslutning is not None or anm.record.smdb_id is None:
            continue
        ivs = client.hent_ivaerksaettelser(anmodning_id=anm.record.smdb_id)
        tilb, kval = [], []
        for iv in ivs:
            if iv.record.smdb_id is not None:
                tilb.extend(client.hent_tilbudstilknytninger(ivaerksaettelse_id=iv.record.smdb_id))
                kval.extend(client.hent_kvalhep(ivaerksaettelse_id=iv.record.smdb_id))
        out.extend(saml_forloeb([anm], ivs, tilb, kval, kommunekode))
    return out


#: The columns of the active-course list, fixed so that an empty list still has a header for the reader.
AKTIVLISTE_KOLONNER = (
    "PersonIdentifikator",
    "KommuneKode",
    id_element(Form.ANM),
    "BehandlingAnmodningDato",
    "IvaerksatBehandlingDato",
    "AabneTilbud",
    "KvalHep",
)


def aktivliste_rows(forloeb: list[Kontaktforloeb]) -> list[dict[str, Any]]:
    rows = []
    for f in forloeb:
        iv = f.ivaerksaettelse
        rows.append(
            {
                "PersonIdentifikator": str(f.cpr),
                "KommuneKode": f.kommunekode,
                id_element(Form.ANM): f.anmodning.smdb_id,
                "BehandlingAnmodningDato": f.anmodningsdato.isoformat(),
                "IvaerksatBehandlingDato": iv.ivaerksat_dato.isoformat() if iv else "",
                "AabneTilbud": ", ".join(str(t.tilbud_id) for t in f.tilbud if t.slutdato is None),
                "KvalHep": "ja" if f.kvalhep else "nej",
            }
        )
    return rows


@dataclass
class Systemskifteplan:
    model: int
    dato: date
    kommunekode: int
    #: Model 2: (stored, closed) pairs to send; model 1: the stored courses to delete.
    lukninger: list[tuple[Kontaktforloeb, Kontaktforloeb]] = field(default_factory=list)
    sletninger: list[Kontaktforloeb] = field(default_factory=list)
    genregistrering: list[dict[str, Any]] = field(default_factory=list)
    manuelle: list[str] = field(default_factory=list)

    def text(self) -> str:
        lines = [f"Systemskifte model {self.model}, kommune {self.kommunekode}, systemskiftedato {self.dato}"]
        if self.model == 2:
            lines.append(
                f"{len(self.lukninger)} aktive forløb afsluttes pr. systemskiftedato (årsag 10 Anden, "
                f"'{SYSTEMSKIFTE_TEKST}'):"
            )
            for stored, closed in self.lukninger:
                assert closed.afslutning is not None
                lukkes = sum(1 for t in stored.tilbud if t.slutdato is None)
                lines.append(
                    f"  {mask(stored.cpr)} anmodning {stored.anmodningsdato}: {lukkes} åbne tilbud lukkes, "
                    f"afslutning {closed.afslutning.afsluttet_dato}"
                )
            lines.append(
                f"Genregistrering i det nye system med startdato {self.dato + timedelta(days=1)}: "
                f"{len(self.genregistrering)} forløb"
            )
        else:
            lines.append(f"{len(self.sletninger)} aktive forløb skal slettes af DST (smdb@dst.dk) eller i SMDB-web;")
            lines.append("webservicen kan ikke slette (§5.1). Slet bagfra i denne rækkefølge pr. borger:")
            for item in self.sletteliste():
                lines.append(f"  {item['cpr']} {item['skema']} id {item['id']}")
            lines.append(f"Genregistrering i det nye system med oprindelige datoer: {len(self.genregistrering)} forløb")
        for m in self.manuelle:
            lines.append(f"  MANUELT: {m}")
        return "\n".join(lines)

    def sletteliste(self) -> list[dict[str, Any]]:
        """Model 1, in the guide's order per citizen: KvalHep, tilbudstilknytning(er), iværksættelse, anmodning."""
        out = []
        for f in self.sletninger:
            cpr = mask(f.cpr)
            if f.kvalhep is not None:
                out.append({"cpr": cpr, "skema": "KvalHep", "id": f.kvalhep.smdb_id})
            for t in f.tilbud:
                out.append({"cpr": cpr, "skema": "Tilbudstilknytning", "id": t.smdb_id})
            if f.ivaerksaettelse is not None:
                out.append({"cpr": cpr, "skema": "Iværksættelse", "id": f.ivaerksaettelse.smdb_id})
            out.append({"cpr": cpr, "skema": "Anmodning", "id": f.anmodning.smdb_id})
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "dato": self.dato.isoformat(),
            "kommunekode": self.kommunekode,
            "afslutninger": [c.to_official() for _, c in self.lukninger],
            "sletteliste": self.sletteliste(),
            "genregistrering": self.genregistrering,
            "manuelle": self.manuelle,
        }

    def apply(self, client: SmdbClient) -> Summary:
        """Model 2: send the closures (idempotent). Model 1: nothing can be sent; say so."""
        if self.model == 1:
            summary = Summary()
            from smdb.reporting import Outcome, OutcomeStatus

            for f in self.sletninger:
                summary.outcomes.append(
                    Outcome(
                        None,
                        mask(f.cpr),
                        OutcomeStatus.REFUSED,
                        reason="Model 1: sletning kan kun ske via SMDB-web eller DST",
                    )
                )
            return summary
        return Reporter(client).report_many([closed for _, closed in self.lukninger])


def _genregistrering(f: Kontaktforloeb, start: date, *, behold_datoer: bool) -> dict[str, Any]:
    """The course as the new system must register it: no SMDB ids; model 2 restarts it at ``start``."""
    data = f.to_official()
    ids = {spec.id_element for spec in FORMS.values()} | {s.parent_id_element for s in FORMS.values()}
    for form in (Form.ANM, Form.IVAER, Form.KVALHEP, Form.AFSL):
        if isinstance(data.get(form.value), dict):
            data[form.value] = {k: v for k, v in data[form.value].items() if k not in ids}
    data["TILB"] = [{k: v for k, v in t.items() if k not in ids} for t in data.get("TILB", [])]
    data.pop("AFSL", None)
    if behold_datoer:
        return data
    data["ANM"]["BehandlingAnmodningDato"] = start.isoformat()
    if "IVÆR" in data:
        iv = data["IVÆR"]
        iv["IvaerksatBehandlingDato"] = start.isoformat()
        for k in (
            "LaegesamtaleAfholdtDato",
            "LaegesamtaleIkkeAfholdtAarsagTidsfristOverskredetKode",
            "LaegesamtaleIkkeAfholdtAarsagTidsfristOverskredetTekst",
            "BehandlingGarantiOverskredetAarsagKode",
            "BehandlingGarantiOverskredetAarsagTekst",
            "IvaerksatBehandlingDageSidenAnmodningKvantitet",
            "PersonIvaerksatBehandlingAlderKvantitet",
        ):
            iv.pop(k, None)
        data["TILB"] = [
            {
                **{k: v for k, v in t.items() if k != "TilbudTilknyttetBehandlingSlutDato"},
                "TilbudTilknyttetBehandlingStartDato": start.isoformat(),
            }
            for t in data["TILB"]
            if "TilbudTilknyttetBehandlingSlutDato" not in t
        ]
    return data


def model2(client: SmdbClient, kommunekode: int, dato: date) -> Systemskifteplan:
    plan = Systemskifteplan(2, dato, kommunekode)
    for f in aktive_forloeb(client, kommunekode):
        if f.anmodningsdato > dato:
            plan.manuelle.append(
                f"{mask(f.cpr)}: anmodning {f.anmodningsdato} er efter systemskiftedatoen; "
                "forløbet hører til det nye system"
            )
            continue
        tilb = [t if t.slutdato is not None else t.model_copy(update={"slutdato": dato}) for t in f.tilbud]
        # §6.1.5: when every offer was already closed, AFSL must equal the latest end date, not the cut-over.
        alle_lukket = bool(f.tilbud) and all(t.slutdato is not None for t in f.tilbud)
        afsl_dato = max(t.slutdato for t in f.tilbud if t.slutdato) if alle_lukket else dato
        afsl = Afslutning(
            afsluttet_dato=afsl_dato,
            status=AfsluttetStatus.IKKE_FAERDIGBEHANDLET,
            aarsag=AfsluttetAarsag.ANDEN,
            aarsag_tekst=SYSTEMSKIFTE_TEKST,
        )
        closed = f.model_copy(update={"tilbud": tilb, "afslutning": afsl})
        problems = aendringens_brud(closed, f, [], client.today())
        if problems:
            plan.manuelle.append(
                f"{mask(f.cpr)}: kan ikke afsluttes automatisk: " + "; ".join(v.message for v in problems)
            )
            continue
        plan.lukninger.append((f, closed))
        plan.genregistrering.append(_genregistrering(f, dato + timedelta(days=1), behold_datoer=False))
    return plan


def model1(client: SmdbClient, kommunekode: int, dato: date) -> Systemskifteplan:
    plan = Systemskifteplan(1, dato, kommunekode)
    for f in aktive_forloeb(client, kommunekode):
        plan.sletninger.append(f)
        plan.genregistrering.append(_genregistrering(f, f.anmodningsdato, behold_datoer=True))
    return plan
