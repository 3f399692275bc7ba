"""CPR numbers: validation with the 7th-digit century rule (python-stdnum), and masking.

A CPR number is sensitive personal data. :class:`Cpr` is a ``str`` (so it goes on the wire unchanged)
whose ``repr`` is masked, so that a model printed in a log line or a traceback shows ``010190-****``
instead of the whole number.
"""

from __future__ import annotations

import re
from datetime import date

from stdnum.dk import cpr as _stdnum_cpr
from stdnum.exceptions import ValidationError

from smdb.errors import CprError as CprError  # re-exported: smdb.cpr.CprError stays public

_CPR_RE = re.compile(r"^(\d{6})-?(\d{4})$")
#: Anything that looks like a CPR number in free text (used to scrub logs and error output).
CPR_IN_TEXT = re.compile(r"(?<!\d)(\d{2})(\d{2})(\d{2})-?(\d{4})(?!\d)")


def birth_date(digits: str) -> date:
    """Birth date of a 10-digit CPR number, with the century from the 7th digit (CPR-kontoret's rule), by
    python-stdnum's ``stdnum.dk.cpr`` (the same rule, kept there); its English errors become our Danish one.
    stdnum's ``validate`` is not used: it compares with the machine's date, and "today" is injectable here."""
    try:
        born: date = _stdnum_cpr.get_birth_date(digits)
    except ValidationError:
        raise CprError("CPR-nummeret indeholder ikke en gyldig fødselsdato") from None
    return born


class Cpr(str):
    """A validated CPR number, normalised to 10 digits, with a masked ``repr``."""

    __slots__ = ()

    def __new__(cls, value: str) -> Cpr:
        if isinstance(value, Cpr):
            return value
        if not isinstance(value, str):
            raise CprError("CPR-nummeret skal være en tekst med 10 cifre (DDMMÅÅ-SSSS)")
        m = _CPR_RE.match(value.strip())
        if not m:
            raise CprError("CPR-nummeret skal have formatet DDMMÅÅ-SSSS eller 10 cifre")
        digits = m.group(1) + m.group(2)
        birth_date(digits)
        return super().__new__(cls, digits)

    @property
    def foedselsdato(self) -> date:
        """The birth date the number encodes (7th-digit century rule)."""
        return birth_date(self)

    @property
    def masked(self) -> str:
        """The number as it may be shown: ``DDMMÅÅ-****``."""
        return mask(self)

    @property
    def er_kvinde(self) -> bool:
        """Even last digit means a woman in the CPR register (informational; 1-ANM is what is reported)."""
        return int(self[9]) % 2 == 0

    def __repr__(self) -> str:
        return f"Cpr('{self.masked}')"


def mask(cpr: str) -> str:
    """``0101901234`` or ``010190-1234`` -> ``010190-****``."""
    digits = cpr.replace("-", "").strip()
    return f"{digits[:6]}-****" if len(digits) >= 6 else "******-****"


#: A hexadecimal number such as a memory address (``0x7f4512345678``): never a CPR number, so left as it is.
_HEX = re.compile(r"(0[xX][0-9a-fA-F]*[a-fA-F][0-9a-fA-F]*)")


def scrub(text: str) -> str:
    """Mask every CPR-like number in a free text (log lines, SOAP envelopes, fault messages); hexadecimal numbers
    (``-vv`` logs memory addresses) are not CPR numbers and stay readable."""
    parts = _HEX.split(text)
    return "".join(
        part if i % 2 else CPR_IN_TEXT.sub(lambda m: f"{m.group(1)}{m.group(2)}{m.group(3)}-****", part)
        for i, part in enumerate(parts)
    )


def alder(cpr: str, paa_dato: date) -> int:
    """Age in whole years on ``paa_dato`` (3-IVÆR PersonIvaerksatBehandlingAlderKvantitet)."""
    born = birth_date(cpr.replace("-", ""))
    years = paa_dato.year - born.year
    if (paa_dato.month, paa_dato.day) < (born.month, born.day):
        years -= 1
    return years
