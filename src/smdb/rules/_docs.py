"""Generate docs/rules.md from the rule registry, so the documentation cannot drift from the code.

``python -m smdb.rules._docs > docs/rules.md``
"""

from __future__ import annotations

from smdb.rules import REGLER
from smdb.rules.advarsler import ADVARSLER
from smdb.rules.register import REGISTER_REGLER

HEADER = """# Business rules

Every rule the library checks before anything is sent, generated from the rule registry
(`python -m smdb.rules._docs > docs/rules.md`; a test keeps this file current). Each rule has a test that
fails on exactly that rule and one that passes nearby: `tests/test_rules.py::test_rule_fails[<code>]` and
`tests/test_rules.py::test_rule_passes[<code>]`.

Section `3` rules are the table constraints of §3.1 (ANM, IVÆR, TILB, AFSL), §3.2 (INDS, YDEL, UDSK) and §3.3
(KvalHep) found while parsing; their violations carry the precise section of the form.

## §6.2 – courses requested before 2019-07-01

A course whose anmodningsdato (2-ANM) is before 2019-07-01 was reported on the old, non-sanitised forms. For
such a course the library checks dates and structure (§6.1.1, §6.1.2, the date relations of §6.1.3, and
§6.1.4, §6.1.5, §6.1.8) but not the content rules of the sanitised IVÆR (lægesamtale, behandlingsgaranti,
screening, education, the 18-IVÆR matrix, main substance, injection, tests, substitution), which did not exist
in that form. The old answer options of 4-IVÆR, 6-IVÆR, 31-IVÆR, 2-AFSL, 3-AFSL and 7-TILB are not given in the
specification, so the models accept only the current codes; correct old courses with other codes in SMDB-web.
ASI (`IndsaetAsi`, `HentAsiFor*`) exists only for such courses and is passed through unchecked.

What such a course can still receive today (2024 specification, with §6.1.1: no future dates):

- corrections of its anmodning and iværksættelse (IndsaetIvaerksaettelse with the AnmodningId), new or corrected
  tilbudstilknytninger, KvalHep, and its afslutning (AfslutBehandling), checked as above;
- ASI, which only such courses take (register rule `asi_foer_2019`);
- nothing on the tilbud side: INDS/YDEL/UDSK are refused by the webservice for dates from 2025-01-01 (§3.2), so an
  old indskrivning still open is closed in SMDB-web (`smdb systemskifte` lists it as an action). For an
  indskrivning before 2019-07-01, 1-YDEL followed the old requirements.

Retired fields ("Udgået", §6.2) may only be reported for courses begun before 2019-07-01. The §3 tables of the
specification in force mark no field as Udgået, so the models carry none, and input naming a field the models do
not know is refused as an unknown field (the model forbids extra fields) rather than sent and silently dropped.
A course that needs a retired field corrected is corrected in SMDB-web. If DST's Hent answers carry retired
fields for old courses, that is a difference between DST's WSDL and the built-in contract, and
`smdb contract diff` reports it (docs/service-contract.md).

## Rules that the specification states twice

- §6.1.3 c (1-IVÆR not after 1-AFSL) and §6.1.5 (1-AFSL not before 1-IVÆR) are one condition: `afsl_foer_ivaer`.
- §6.1.4 (4-TILB required and not after 1-AFSL) and §6.1.5 (no open TILB; 1-AFSL not before the latest 4-TILB):
  `tilb_slut_mangler_ved_afsl` and `tilb_slut_efter_afsl`.
- §6.1.6 (5) and §6.1.7 (6) (no UDSK with open YDEL): `udsk_aabne_ydelser`; §6.1.6 (4) and §6.1.7 (5):
  `udsk_foer_ydel_slut`; §6.1.6 (6) and §6.1.7 (4): `ydel_start_foer_inds`.
- §6.1.3 "ordinerede stoffer kan ikke angives som hovedstof" is the code list of 20-IVÆR, which has no code
  for them: a code outside it is `kode_ugyldig` on 20-IVÆR.

| Section | Felt-IDs | Code | Rule | Tests |
|---|---|---|---|---|
"""


REGISTER_HEADER = """
## Rules that need the register

Checked by SMDB against what it stores, and by the simulator the same way (`smdb.rules.register`); the client
cannot know them before it sends, except §6.1.2, which it checks against the citizen's stored courses. The
simulator answers each with the fault code given and the rule's section in `Regel`.

| Section | Code | Fault | Rule | Test |
|---|---|---|---|---|
"""


WARNINGS_HEADER = """
## Warnings

Likely readings of the specification that it does not state as rules (`smdb.rules.advarsler`). `smdb validate`
prints them (`advarsel: …`; JSON `"warnings": [...]` in the shape of the violations) and `parse_validate_and_warn`
returns them; they never make data invalid and never stop a report.

| Section | Felt-IDs | Code | Warning | Test |
|---|---|---|---|---|
"""


def _key(section: str) -> tuple[int, ...]:
    return tuple(int(p) for p in section.split("."))


def render() -> str:
    rows = []
    for r in sorted(REGLER.values(), key=lambda r: (_key(r.afsnit), r.kode)):
        felter = ", ".join(r.felter) or "(the field in error)"
        tests = f"`test_rule_fails[{r.kode}]`, `test_rule_passes[{r.kode}]`"
        beskrivelse = r.beskrivelse.replace("|", "\\|")
        rows.append(f"| {r.afsnit} | {felter} | `{r.kode}` | {beskrivelse} | {tests} |")
    register = [
        f"| {r.afsnit} | `{r.kode}` | {r.fejlkode} | {r.beskrivelse.replace('|', chr(92) + '|')} "
        f"| `test_register_rules.py::test_register_rule_is_refused_by_the_simulator[{r.kode}]` |"
        for r in sorted(REGISTER_REGLER.values(), key=lambda r: (_key(r.afsnit), r.kode))
    ]
    warnings = [
        f"| {r.afsnit} | {', '.join(r.felter)} | `{r.kode}` | {r.beskrivelse} "
        f"| `test_advarsler.py::test_warning_is_raised_and_is_not_a_violation[{r.kode}]` |"
        for r in sorted(ADVARSLER.values(), key=lambda r: (_key(r.afsnit), r.kode))
    ]
    return (
        HEADER
        + "\n".join(rows)
        + "\n"
        + REGISTER_HEADER
        + "\n".join(register)
        + "\n"
        + WARNINGS_HEADER
        + "\n".join(warnings)
        + "\n"
    )


if __name__ == "__main__":  # pragma: no cover
    print(render(), end="")
