"""The support check (§1.2: "om funktionscertifikaterne fungerer"): certificate, endpoint and clock, in one go.

A support desk asks three questions when a municipality cannot report: is the certificate valid, does the
endpoint answer and know us, and is our clock within the window DST's timestamps allow? :func:`check` answers all
three and never raises, so ``smdb check`` can print every line that needs fixing at once.
"""

from __future__ import annotations

import email.utils
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from smdb.auth.certificates import Credentials
from smdb.auth.wsse import CLOCK_SKEW
from smdb.errors import SmdbError


class Kontrollerbar(Protocol):
    """What the check needs of a client (:class:`smdb.client.SmdbClient` has it): so this module does not import
    the client that offers ``client.check()``."""

    credentials: Credentials | None
    clock: Callable[[], datetime]

    @property
    def server_date(self) -> str | None: ...

    def whoami(self) -> dict[str, Any]: ...

    def endpoint(self, service: str) -> str: ...


@dataclass(frozen=True, slots=True)
class CheckResult:
    """What :func:`check` found, for support desks: ``ok`` and one line per finding."""

    ok: bool
    lines: list[str]


def check(client: Kontrollerbar) -> CheckResult:
    """Is the certificate valid, the endpoint reachable and our clock sane? Never raises; says what to fix."""
    lines: list[str] = []
    ok = True
    if client.credentials is None:
        lines.append("FEJL  intet certifikat konfigureret (SMDB_CERT)")
        ok = False
    else:
        try:
            client.credentials.check_validity()
            lines.append(
                f"OK    certifikat {client.credentials.subject} gyldigt til {client.credentials.not_after:%Y-%m-%d}"
            )
        except SmdbError as exc:
            lines.append(f"FEJL  {exc}")
            ok = False
    try:
        who = client.whoami()
        lines.append(f"OK    {client.endpoint('TokenTest')} svarer; SMDB kender os som {who.get('Subject')}")
    except SmdbError as exc:
        lines.append(f"FEJL  {exc}")
        ok = False
    skew = clock_skew(client)  # also after a refusal: a wrong clock is a common reason for one
    if skew is None:
        lines.append("?     serverens ur kunne ikke aflæses (ingen Date-header)")
    elif abs(skew) > CLOCK_SKEW.total_seconds():
        lines.append(f"FEJL  vores ur afviger {skew:+.0f} s fra serverens; signaturens tidsstempel bliver afvist")
        ok = False
    else:
        lines.append(f"OK    uret afviger {skew:+.0f} s fra serverens (tilladt ±{CLOCK_SKEW.total_seconds():.0f} s)")
    return CheckResult(ok, lines)


def clock_skew(client: Kontrollerbar) -> float | None:
    """Our clock minus the server's, from the HTTP Date header of the last answer (1 s resolution)."""
    server_date = client.server_date
    if not server_date:
        return None
    try:
        server = email.utils.parsedate_to_datetime(server_date)
    except (TypeError, ValueError):
        return None
    now: datetime = client.clock()
    return (now - server).total_seconds()
