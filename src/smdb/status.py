"""``smdb status``: what a vendor must watch (Kravspecifikation §1.2: that data gets through and that the function
certificates work), per municipality, in a form a monitoring system can read.

Read from the journal's outbox, read-only (no key needed: only masked CPR numbers are there), and from the
configured certificates. Attention (exit 1) when the oldest unsent change is older than ``max_alder``, when a course
is parked (refused by a rule: the case system must correct it), or when a certificate expires within 30 days (or
cannot be read). Formats: text (Danish), JSON, and the Prometheus text exposition format.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from smdb import auth as auth_files
from smdb.errors import CertificateError
from smdb.journal_db import read_only

#: A certificate expiring within this many days needs attention (renewal takes time at the CA).
CERT_WARN_DAYS = 30


@dataclass
class Kommunestatus:
    kommunekode: int
    i_koe: int = 0
    aeldste_sekunder: float | None = None
    parkeret: list[dict[str, str]] = field(default_factory=list)
    fejlet: list[dict[str, str]] = field(default_factory=list)
    sidst_bekraeftet: str | None = None


@dataclass
class Certifikatstatus:
    kommunekode: int | None
    fil: str
    dage_til_udloeb: float | None
    fejl: str | None = None


@dataclass
class Status:
    nu: str
    max_alder_sekunder: float
    kommuner: list[Kommunestatus]
    certifikater: list[Certifikatstatus]

    @property
    def opmaerksomhed(self) -> list[str]:
        """What needs attention, one Danish line each (empty: all is well)."""
        out = []
        for k in self.kommuner:
            if k.aeldste_sekunder is not None and k.aeldste_sekunder > self.max_alder_sekunder:
                out.append(
                    f"kommune {k.kommunekode}: ældste ikke-sendte ændring er {k.aeldste_sekunder / 60:.0f} min gammel "
                    f"(grænse {self.max_alder_sekunder / 60:.0f} min)"
                )
            if k.parkeret:
                out.append(
                    f"kommune {k.kommunekode}: {len(k.parkeret)} forløb parkeret (afvist; ret dem i fagsystemet)"
                )
        for c in self.certifikater:
            hvem = f"kommune {c.kommunekode}s" if c.kommunekode is not None else "organisationens"
            if c.fejl:
                out.append(f"{hvem} certifikat {c.fil}: {c.fejl}")
            elif c.dage_til_udloeb is not None and c.dage_til_udloeb < CERT_WARN_DAYS:
                out.append(f"{hvem} certifikat {c.fil} udløber om {c.dage_til_udloeb:.0f} dage")
        return out

    def to_dict(self) -> dict[str, Any]:
        """The status as data (``--format json``): every field, the attention list and ``ok``."""
        return {**asdict(self), "opmaerksomhed": self.opmaerksomhed, "ok": not self.opmaerksomhed}

    def text(self) -> str:
        """The status for a person (``smdb status``), in Danish."""
        lines = []
        for k in self.kommuner:
            age = f"{k.aeldste_sekunder / 60:.0f} min" if k.aeldste_sekunder is not None else "-"
            lines.append(
                f"kommune {k.kommunekode}: {k.i_koe} i kø (ældste {age}), {len(k.parkeret)} parkeret, "
                f"{len(k.fejlet)} fejlet, sidst bekræftet {k.sidst_bekraeftet or 'aldrig'}"
            )
            lines += [f"  parkeret {p['cpr']}: {p['aarsag']}" for p in k.parkeret]
            lines += [f"  fejlet {p['cpr']}: {p['aarsag']}" for p in k.fejlet]
        for c in self.certifikater:
            hvem = f"kommune {c.kommunekode}" if c.kommunekode is not None else "organisation"
            dage = f"{c.dage_til_udloeb:.0f} dage til udløb" if c.dage_til_udloeb is not None else c.fejl
            lines.append(f"certifikat ({hvem}) {c.fil}: {dage}")
        if not lines:
            lines.append("udbakken er tom, og der er ingen certifikater konfigureret")
        lines += [f"OBS: {a}" for a in self.opmaerksomhed] or ["alt er i orden"]
        return "\n".join(lines)

    def prometheus(self) -> str:
        """The Prometheus text exposition format (version 0.0.4)."""
        out: list[str] = []

        def metric(name: str, help_text: str, samples: list[tuple[dict[str, str], float]]) -> None:
            out.append(f"# HELP {name} {help_text}")
            out.append(f"# TYPE {name} gauge")
            for labels, value in samples:
                shown = ",".join(f'{k}="{v}"' for k, v in labels.items())
                out.append(f"{name}{{{shown}}} {value:g}" if shown else f"{name} {value:g}")

        ks = self.kommuner
        metric("smdb_udbakke_i_koe", "Forløb i udbakken, der ikke er sendt", [(_k(k), k.i_koe) for k in ks])
        metric(
            "smdb_udbakke_aeldste_sekunder",
            "Alder af den ældste ikke-sendte ændring",
            [(_k(k), k.aeldste_sekunder or 0.0) for k in ks],
        )
        metric("smdb_udbakke_parkeret", "Forløb afvist af en regel", [(_k(k), len(k.parkeret)) for k in ks])
        metric("smdb_udbakke_fejlet", "Forløb, der venter på et nyt forsøg", [(_k(k), len(k.fejlet)) for k in ks])
        metric(
            "smdb_sidst_bekraeftet_unixtid",
            "Tidspunkt for det sidst bekræftede forløb",
            [(_k(k), datetime.fromisoformat(k.sidst_bekraeftet).timestamp()) for k in ks if k.sidst_bekraeftet],
        )
        metric(
            "smdb_certifikat_dage_til_udloeb",
            "Dage til certifikatet udløber",
            [
                ({"kommune": str(c.kommunekode) if c.kommunekode is not None else "organisation"}, c.dage_til_udloeb)
                for c in self.certifikater
                if c.dage_til_udloeb is not None
            ],
        )
        metric("smdb_opmaerksomhed", "Antal forhold, der kræver opmærksomhed", [({}, len(self.opmaerksomhed))])
        return "\n".join(out) + "\n"

    def json(self) -> str:
        """:meth:`to_dict` as JSON text."""
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2)


def _k(k: Kommunestatus) -> dict[str, str]:
    return {"kommune": str(k.kommunekode)}


def status(
    journal: str | Path | None,
    certificates: dict[int | None, tuple[Path, str | None, Path | None]],
    now: datetime,
    max_alder: timedelta = timedelta(hours=1),
) -> Status:
    """The status of the outbox in ``journal`` (None: none) and of ``certificates`` (kommunekode or None for the
    organisation's -> (file, password, key file)) at ``now``."""
    kommuner: dict[int, Kommunestatus] = {}
    if journal is not None:
        rows = read_only(
            journal,
            "SELECT kommunekode, cpr_masked, state, enqueued_at, attempts, reason, done_at FROM outbox",
            table="outbox",
        )
        for kode, masked, state, enqueued, attempts, reason, done in rows:
            k = kommuner.setdefault(int(kode), Kommunestatus(int(kode)))
            if state == "queued":
                k.i_koe += 1
                age = (now - datetime.fromisoformat(enqueued)).total_seconds()
                k.aeldste_sekunder = max(age, k.aeldste_sekunder or 0.0)
                if attempts and reason:
                    k.fejlet.append({"cpr": masked, "aarsag": reason})
            elif state == "parked":
                k.parkeret.append({"cpr": masked, "aarsag": reason or ""})
            if done and (k.sidst_bekraeftet is None or done > k.sidst_bekraeftet):
                k.sidst_bekraeftet = done
    certs = [_certificate(kode, *spec, now=now) for kode, spec in certificates.items()]
    return Status(
        now.isoformat(timespec="seconds"),
        max_alder.total_seconds(),
        sorted(kommuner.values(), key=lambda k: k.kommunekode),
        certs,
    )


def _certificate(kode: int | None, path: Path, password: str | None, key: Path | None, *, now: datetime) -> Any:
    try:
        creds = auth_files.load(path, password, key)
    except CertificateError as exc:
        return Certifikatstatus(kode, str(path), None, f"kan ikke læses ({exc})")
    days = (creds.certificate.not_valid_after_utc - now).total_seconds() / 86400
    return Certifikatstatus(kode, str(path), round(days, 1))
