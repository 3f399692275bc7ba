"""Dependent fields: a field that is shown ("Vises, hvis …") only for one answer of another field.

Every pair gets two rules: the dependent field given although the condition does not hold (the table
of §3 hides it), and, where the option says "som uddybes ved valg" or §6.1 demands it, the dependent
field missing although the condition holds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from smdb.rules._core import Violation, navn, regel


def betinget_felt(
    prefix: str,
    styrende: tuple[str, str, str],
    udloeser: Any,
    afhaengig: tuple[str, str, str],
    afsnit_vises: str,
    afsnit_krav: str | None,
) -> Callable[[Any], Iterator[Violation]]:
    """Build the rules ``<prefix>_vises_ikke`` and (if ``afsnit_krav``) ``<prefix>_paakraevet``.

    ``styrende`` and ``afhaengig`` are (Felt-ID, official variable name, Python attribute).
    """
    s_id, s_var, s_attr = styrende
    a_id, a_var, a_attr = afhaengig
    felter = [a_id, s_id] if a_id != s_id else [a_id]
    vises_ikke = regel(
        f"{prefix}_vises_ikke",
        afsnit_vises,
        felter,
        f"{a_var} vises kun, når {s_var} = {udloeser.value} ({udloeser.label}).",
    )
    krav = (
        regel(
            f"{prefix}_paakraevet",
            afsnit_krav,
            felter,
            f"Når {s_var} = {udloeser.value} ({udloeser.label}), skal {a_var} udfyldes.",
        )
        if afsnit_krav
        else None
    )

    def check(obj: Any) -> Iterator[Violation]:
        styr = getattr(obj, s_attr)
        afh = getattr(obj, a_attr)
        udfyldt = afh is not None and (not isinstance(afh, str) or afh.strip() != "")
        if styr == udloeser:
            if krav is not None and not udfyldt:
                yield krav.brud(
                    f"{navn(a_id, a_var)} skal udfyldes, når {navn(s_id, s_var)} er {udloeser.value} ({udloeser.label})"
                )
        elif udfyldt:
            yield vises_ikke.brud(
                f"{navn(a_id, a_var)} må kun udfyldes, når {navn(s_id, s_var)} er {udloeser.value} ({udloeser.label})"
            )

    return check
