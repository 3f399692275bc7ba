"""Rule registry and the Violation type.

Each business rule is a :class:`Regel`: a stable machine code, the section of the Kravspecifikation that
states it, the Felt-IDs it concerns and a one-line description. Check functions are registered per
form with :func:`tjek`; ``docs/rules.md`` and the test-suite's completeness check are driven by
:data:`REGLER`, so a rule cannot exist without documentation and a test.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any, TypeVar

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Violation:
    """One broken rule. ``message`` is Danish and names the fields by Felt-ID and official variable name."""

    rule: str
    fields: tuple[str, ...]
    code: str
    message: str
    forloeb: int | None = None
    #: Which record of a form with several (TILB, YDEL) it is about: its index in that list; None otherwise.
    nr: int | None = None

    @property
    def skema(self) -> str | None:
        """The form the violation is about (ANM, IVÆR, TILB, KvalHep, AFSL, INDS, YDEL, UDSK), from its first
        Felt-ID: with :attr:`felt`, :attr:`nr` and :attr:`forloeb`, where a case system highlights it."""
        return self.fields[0].split("-", 1)[1] if self.fields and "-" in self.fields[0] else None

    @property
    def felt(self) -> str | None:
        """The first Felt-ID the violation names (e.g. ``4-TILB``), or None."""
        return self.fields[0] if self.fields else None

    @property
    def placering(self) -> dict[str, Any]:
        """Where it is, as data: the course's index, the form, the record's index in the form's list, the Felt-ID."""
        return {"forloeb": self.forloeb, "skema": self.skema, "nr": self.nr, "felt": self.felt}

    def to_dict(self) -> dict[str, Any]:
        """The violation as JSON (forloeb, rule, fields, code, message; the shape scripts rely on)."""
        return {
            "forloeb": self.forloeb,
            "rule": self.rule,
            "fields": list(self.fields),
            "code": self.code,
            "message": self.message,
        }

    def tekst(self, kode: bool = True) -> str:
        """One line for a person: the section, the Felt-IDs (unless the message already names them, as it
        usually does), the message and, with ``kode``, the rule's machine code."""
        extra = [f for f in self.fields if f not in self.message]
        felter = f" [{', '.join(extra)}]" if extra else ""
        return f"§{self.rule}{felter} {self.message}" + (f" ({self.code})" if kode else "")

    def __str__(self) -> str:
        where = f"forløb {self.forloeb}: " if self.forloeb is not None else ""
        return where + self.tekst()


@dataclass(frozen=True, slots=True)
class Regel:
    """A rule of the specification (see module docstring)."""

    kode: str
    afsnit: str
    felter: tuple[str, ...]
    beskrivelse: str

    def brud(self, besked: str, felter: Iterable[str] | None = None, nr: int | None = None) -> Violation:
        """A violation of this rule: ``felter`` narrows the Felt-IDs, ``nr`` is the record's index in its form's
        list (which tilbudstilknytning, which ydelse)."""
        chosen = tuple(felter) if felter is not None else self.felter
        return Violation(self.afsnit, chosen, self.kode, besked, nr=nr)


REGLER: dict[str, Regel] = {}


def regel(kode: str, afsnit: str, felter: Iterable[str], beskrivelse: str) -> Regel:
    """Declare a rule once; its code must be unique across the library."""
    if kode in REGLER:
        raise ValueError(f"duplicate rule code {kode}")
    r = Regel(kode, afsnit, tuple(felter), beskrivelse)
    REGLER[kode] = r
    return r


@dataclass(frozen=True, slots=True)
class Kontekst:
    """What a check may depend on besides the record itself: "today" is always injected."""

    today: date


@dataclass
class Tjekliste:
    """The checks of one kind of aggregate, run in declaration order."""

    checks: list[Callable[..., Iterator[Violation]]] = field(default_factory=list)

    def __call__(
        self, fn: Callable[[T, Kontekst], Iterator[Violation]]
    ) -> Callable[[T, Kontekst], Iterator[Violation]]:
        self.checks.append(fn)
        return fn

    def run(self, obj: Any, ctx: Kontekst) -> Iterator[Violation]:
        for check in self.checks:
            yield from check(obj, ctx)


def navn(felt_id: str, variabel: str) -> str:
    """How a field is named in every message: ``[4-ANM] PersonGravidKode``."""
    return f"[{felt_id}] {variabel}"
