"""Hypothesis strategies for valid SMDB courses (official JSON shape)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from hypothesis import strategies as st

from smdb import codes
from smdb.stoffer import ALDER, DAGE, HYPPIGHED, MAADE, VIL_IKKE_OPLYSE, Stof

TODAY = date(2025, 6, 1)


def _cpr(born: date, kvinde: bool, seq: int) -> str:
    # 7th digit: 0-3 for 1900s; 4 for 2000-2036
    c7 = "4" if born.year >= 2000 else "1"
    last = (seq % 5) * 2 + (0 if kvinde else 1)
    return f"{born:%d%m%y}{c7}{seq % 100:02d}{last}"


@st.composite
def stofrække(draw: st.DrawFn, stof: Stof, alder: int) -> dict[str, Any]:
    modes = sorted(m.value for m in stof.info.modes)
    row: dict[str, Any] = {
        stof.variabel(DAGE): draw(st.integers(0, 30)),
        stof.variabel(HYPPIGHED): draw(st.sampled_from([m.value for m in codes.Indtagelseshyppighed])),
        stof.variabel(MAADE): draw(st.sampled_from(modes)),
    }
    if draw(st.booleans()):
        row[stof.variabel(ALDER)] = draw(st.integers(0, alder))
    else:
        row[stof.variabel(VIL_IKKE_OPLYSE)] = True
    return row


@st.composite
def kontaktforloeb(draw: st.DrawFn) -> dict[str, Any]:
    kvinde = draw(st.booleans())
    anm = draw(st.dates(date(2019, 7, 1), TODAY - timedelta(days=120)))
    born = draw(st.dates(date(1950, 1, 1), anm - timedelta(days=365 * 15)))
    cpr = _cpr(born, kvinde, draw(st.integers(0, 9999)))
    course: dict[str, Any] = {
        "kommunekode": draw(st.sampled_from([101, 147, 461, 751, 851])),
        "ANM": {
            "PersonIdentifikator": cpr,
            "PersonKoenKode": "00" if kvinde else "01",
            "BehandlingAnmodningDato": anm.isoformat(),
            "BehandlingTidligereKode": draw(st.sampled_from(["01", "02", "99"])),
        },
    }
    if kvinde:
        course["ANM"]["PersonGravidKode"] = draw(st.sampled_from(["01", "02", "99"]))
    if not draw(st.integers(0, 9)):  # some courses are closed without ever starting
        course["AFSL"] = {
            "BehandlingAfsluttetDato": (anm + timedelta(days=draw(st.integers(0, 60)))).isoformat(),
            "BehandlingAfsluttetAarsagKode": "03",
        }
        return course
    dage = draw(st.integers(0, 60))
    iv_dato = anm + timedelta(days=dage)
    alder = iv_dato.year - born.year - ((iv_dato.month, iv_dato.day) < (born.month, born.day))
    iv: dict[str, Any] = {
        "IvaerksatBehandlingDato": iv_dato.isoformat(),
        "PersonGrundskoleuddannelseKode": draw(st.sampled_from([m.value for m in codes.Grundskole])),
        "PersonVideregaaendeUddannelseKode": draw(st.sampled_from([m.value for m in codes.VideregaaendeUddannelse])),
        "PersonUngdomsuddannelseKode": draw(st.sampled_from([m.value for m in codes.Ungdomsuddannelse])),
        "PersonNogensindeDeltEllerDelerVaerktoejForTidenKode": draw(
            st.sampled_from([m.value for m in codes.DeltVaerktoej])
        ),
        "PersonNogensindeTestetHCVKode": draw(st.sampled_from([m.value for m in codes.Testet])),
        "PersonNogensindeTestetHIVKode": draw(st.sampled_from([m.value for m in codes.Testet])),
        "PersonNogensindeSubstitutionsbehandlingKode": "02",
        "PersonFoersteSubstitutionsbehandlingAlderKvantitet": draw(st.integers(0, 99)),
    }
    injektion = draw(st.sampled_from([m.value for m in codes.Injektion]))
    iv["PersonNogensindeInjiceretEllerInjicererForTidenKode"] = injektion
    if injektion != "01":
        choices = [m.value for m in codes.FoersteInjektionAlder if m.value != "08" or injektion in ("06", "99")]
        iv["PersonFoersteInjektionAlderKode"] = draw(st.sampled_from(choices))
    if draw(st.booleans()):
        iv["PersonHovedstofAngivelseIkkeMuligIndikator"] = True
    else:
        iv["PersonAktueltHovedstofKode"] = draw(st.sampled_from([m.value for m in codes.Hovedstof]))
    if draw(st.booleans()):
        lae = anm + timedelta(days=draw(st.integers(0, min(14, dage))))
        iv["LaegesamtaleAfholdtIndikator"] = True
        iv["LaegesamtaleAfholdtDato"] = lae.isoformat()
    if dage > 14:
        grunde = ["01", "02", "08", "04", "09", "07", "05" if alder >= 18 else "06"]
        grund = draw(st.sampled_from(grunde))
        iv["BehandlingGarantiOverskredetAarsagKode"] = grund
        if grund == "07":
            iv["BehandlingGarantiOverskredetAarsagTekst"] = "Anden årsag"
    for stof in draw(st.lists(st.sampled_from(list(Stof)), unique=True, max_size=6)):
        iv.update(draw(stofrække(stof, alder)))
        if stof is Stof.ANDRE_STOFFER:
            iv["KommentarOmkringAndreStoffer"] = "GHB"
    course["IVÆR"] = iv
    substitution = draw(st.booleans())
    lukket = draw(st.booleans())
    slut = min(iv_dato + timedelta(days=draw(st.integers(0, 100))), TODAY)
    tilb = []
    for i in range(draw(st.integers(1, 3))):
        t: dict[str, Any] = {
            "TilbudId": 1000 + i,
            "BehandlingTypeKode": draw(st.sampled_from(["04", "06"])),
            "TilbudTilknyttetBehandlingStartDato": iv_dato.isoformat(),
        }
        tilb.append(t)
    if substitution:
        tilb.append(
            {
                "TilbudId": 1009,
                "BehandlingTypeKode": draw(st.sampled_from(["01", "07", "08", "05", "03"])),
                "TilbudTilknyttetBehandlingStartDato": iv_dato.isoformat(),
                "AutorisationKodeTekst": "0C4TX",
            }
        )
    if lukket:
        for t in tilb:
            t["TilbudTilknyttetBehandlingSlutDato"] = slut.isoformat()
        course["AFSL"] = {"BehandlingAfsluttetDato": slut.isoformat(), "BehandlingAfsluttetAarsagKode": "01"}
    course["TILB"] = tilb
    risiko = (
        substitution
        or injektion in ("03", "04", "05")
        or (iv["PersonNogensindeDeltEllerDelerVaerktoejForTidenKode"] in ("03", "04", "05"))
    )
    if risiko and draw(st.booleans()):
        course["KvalHep"] = {"BehandlingVirusSmittevejeRaadgivetKode": "01"}
        if kvinde:
            course["KvalHep"]["BehandlingAntikonceptionIvaerksatKode"] = "03"
    return course
