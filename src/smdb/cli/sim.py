"""The simulator and contract commands: ``sim serve``, ``sim cert``, ``contract diff`` and ``demo``."""

from __future__ import annotations

import contextlib
import errno
import sys
from pathlib import Path
from typing import Any

import click

from smdb.cli.base import (
    EXIT_OK,
    EXIT_VIOLATIONS,
    HJAELP,
    Args,
    UsageError,
    cli,
    netfejl,
    opt,
    run,
)
from smdb.errors import SmdbUnavailable
from smdb.files import os_fejl, read_capped, write_atomic, write_owner_only


def _fejlplan(args: Args) -> Any:
    """``--fejl RATE`` (with ``--fejl-seed``, ``--fejl-typer``, ``--fejl-kun-skriv``): faults injected into the
    simulator's answers, so a vendor can test its own handling of unknown outcomes (smdb.sim.faults)."""
    if not args.fejl:
        return None
    from smdb.sim.faults import ALL, FaultPlan

    if not 0 < args.fejl <= 1:
        raise UsageError("--fejl skal være en andel mellem 0 og 1, fx 0.1 for hvert tiende kald")
    kinds = tuple(k.strip() for k in args.fejl_typer.split(",") if k.strip()) if args.fejl_typer else ALL
    unknown = sorted(set(kinds) - set(ALL))
    if unknown:
        raise UsageError(f"--fejl-typer: ukendt {', '.join(unknown)}; mulige: {', '.join(ALL)}")
    return FaultPlan(rate=args.fejl, seed=args.fejl_seed, kinds=kinds, writes_only=args.fejl_kun_skriv)


def _adgang(values: tuple[str, ...] | None) -> dict[str, list[int]] | None:
    """``--adgang CVR=KODE[,KODE…]`` (repeatable) as CVR -> municipalities; None when not given."""
    if not values:
        return None
    adgang: dict[str, list[int]] = {}
    for value in values:
        cvr, _, koder = value.partition("=")
        try:
            codes = [int(k) for k in koder.split(",") if k.strip()]
        except ValueError:
            codes = []
        if len(cvr) != 8 or not cvr.isdigit() or not codes:
            raise UsageError(f"--adgang skal være CVR=KODE[,KODE…], fx 29189900=101,147 (fik {value!r})")
        adgang.setdefault(cvr, []).extend(codes)
    return adgang


def cmd_sim_serve(args: Args) -> int:
    from cryptography import x509

    from smdb.sim import SimServer, Simulator, Store

    trusted = []
    for path in args.trust or []:
        try:
            trusted.extend(x509.load_pem_x509_certificates(read_capped(path, 1024 * 1024)))
        except (OSError, ValueError):
            raise UsageError(f"kan ikke læse certifikatet {path}") from None
    if args.latency < 0 or args.jitter < 0:
        raise UsageError("--latency og --jitter skal være 0 eller flere millisekunder")
    if not 0 <= args.port <= 65535:
        raise UsageError(f"--port skal være mellem 0 og 65535 (fik {args.port}); 0 vælger en ledig port")
    if args.db and not Path(args.db).parent.is_dir():
        raise UsageError(f"--db: mappen {Path(args.db).parent} findes ikke")
    try:
        store = Store(args.db)
    except OSError as exc:
        raise UsageError(f"--db {args.db} kan ikke åbnes: {os_fejl(exc)}") from None
    app = Simulator(
        store, trusted=trusted, require_signature=not args.allow_unsigned, auth=args.auth, adgang=_adgang(args.adgang)
    )
    app.fault_plan = _fejlplan(args)
    try:
        server = SimServer(app, host=args.host, port=args.port, latency_ms=args.latency, jitter_ms=args.jitter)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise UsageError(
                f"port {args.port} på {args.host} er optaget: vælg en anden med --port (0: en ledig)"
            ) from None
        raise UsageError(f"kan ikke lytte på {args.host}:{args.port}: {os_fejl(exc)}") from None
    from cryptography.hazmat.primitives import serialization

    if args.server_cert_out:
        write_atomic(args.server_cert_out, server.server_certificate.public_bytes(serialization.Encoding.PEM), 0o644)
    if args.sts_cert_out:
        if app.sts is None:
            raise UsageError("--sts-cert-out kræver --auth sts")
        write_atomic(args.sts_cert_out, app.sts.certificate.public_bytes(serialization.Encoding.PEM), 0o644)
    print(f"SMDB-simulator på {server.url} (Ctrl-C stopper)", flush=True)
    print(f"  SMDB_ENDPOINT={server.url}", flush=True)
    if args.auth == "sts":
        sts_cert = f" SMDB_STS_CERT={args.sts_cert_out}" if args.sts_cert_out else ""
        print(f"  SMDB_AUTH=sts SMDB_STS_URL={server.sts_url} SMDB_STS_AUDIENCE={app.audience}{sts_cert}", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()
    return EXIT_OK


def cmd_sim_cert(args: Args) -> int:
    from smdb.auth import testcert

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    creds = testcert.generate(args.organisation, args.cvr)
    cert_pem, key_pem = testcert.to_pem(creds)
    write_atomic(out / "test-cert.pem", cert_pem, 0o644)
    key_path = out / "test-key.pem"
    write_owner_only(key_path, key_pem)
    print(f"Testcertifikat (kun til simulatoren): {out / 'test-cert.pem'} og {key_path}")
    return EXIT_OK


def cmd_contract_diff(args: Args) -> int:
    """Every difference between DST's WSDLs and the shipped contract; exit 1 when they differ."""
    import time

    import requests

    from smdb.http import bounded_request, require_https
    from smdb.soap.contract import SERVICES
    from smdb.soap.diff import NotAWsdl, diff_document

    sources: list[str] = list(args.sources)
    if args.diff_env:
        host = {"preprod": "https://smdbpreprodws.dst.dk", "prod": "https://smdbws.dst.dk"}[args.diff_env]
        sources += [f"{host}/smdbwebservice/api/external/v1/{svc.path}?singlewsdl" for svc in SERVICES.values()]
    if not sources:
        raise UsageError("angiv --env preprod|prod, en WSDL-fil eller en URL (…svc?singlewsdl)")
    differ = False
    with requests.Session() as session:
        for source in sources:
            if source.startswith(("http://", "https://")):
                require_https(source, "WSDL-adressen", getattr(args, "allow_insecure_http", False))
                try:
                    response = bounded_request(
                        session,
                        "GET",
                        source,
                        timeout=(5.0, 30.0),
                        deadline=time.monotonic() + 60,
                        max_bytes=10 * 1024 * 1024,
                    )
                except requests.exceptions.RequestException as exc:
                    raise SmdbUnavailable(f"{source} kunne ikke hentes ({netfejl(exc)})") from None
                if response.status_code != 200:
                    raise SmdbUnavailable(f"{source} svarede HTTP {response.status_code}")
                document = response.content
            else:
                try:
                    document = read_capped(source, 10 * 1024 * 1024)
                except FileNotFoundError:
                    raise UsageError(f"{source}: filen findes ikke") from None
            try:
                service, lines = diff_document(document)
            except NotAWsdl as exc:
                raise UsageError(f"{source}: {exc}") from None
            print(f"{service} ({source}): " + (f"{len(lines)} forskelle" if lines else "ingen forskelle"))
            for line in lines:
                print(f"  {line}")
            differ = differ or bool(lines)
    return EXIT_VIOLATIONS if differ else EXIT_OK


def cmd_demo(args: Args) -> int:
    from smdb.demo import run

    return run(sys.stdout, auth=args.demo_auth)


@cli.command("demo", help="kør en indberetning mod den indlejrede simulator")
@opt(
    "--auth",
    "demo_auth",
    type=click.Choice(["certificate", "sts"]),
    default="certificate",
    help="certifikat direkte, eller via den simulerede STS",
)
@HJAELP
def _demo(**kw: Any) -> int:
    return run(cmd_demo, **kw)


@cli.group("contract", help="kontrakten med DST's webservice (WSDL)")
@HJAELP
def _contract() -> None:
    """The contract commands."""


@_contract.command(
    "diff", help="sammenlign DST's WSDL med den indbyggede kontrakt; exit 1 ved forskelle (docs/service-contract.md)"
)
@click.argument("sources", nargs=-1)
@opt(
    "--env",
    "diff_env",
    type=click.Choice(["preprod", "prod"]),
    help="hent de tre WSDL'er fra DST's miljø (?singlewsdl) i stedet for SOURCES (filer eller URL'er)",
)
@HJAELP
def _contract_diff(**kw: Any) -> int:
    return run(cmd_contract_diff, **kw)


@cli.group("sim", help="den indlejrede SMDB-simulator")
@HJAELP
def _sim() -> None:
    """The simulator commands."""


@_sim.command("serve", help="start simulatoren (Ctrl-C stopper)")
@opt("--host", default="127.0.0.1", help="adressen, simulatoren lytter på")
@opt("--port", type=int, default=8765, help="porten (0: en ledig)")
@opt("--db", help="SQLite-fil; standard: i hukommelsen")
@opt("--trust", multiple=True, help="klientcertifikat (PEM), der accepteres; kan gentages")
@opt("--allow-unsigned", "allow_unsigned", is_flag=True, help="accepter usignerede kald")
@opt("--server-cert-out", "server_cert_out", help="skriv simulatorens certifikat (PEM) hertil")
@opt("--sts-cert-out", "sts_cert_out", help="--auth sts: skriv den simulerede STS' certifikat (PEM) hertil")
@opt("--latency", type=float, default=0.0, help="millisekunder lagt til hvert kald, som hos DST")
@opt("--jitter", type=float, default=0.0, help="op til så mange millisekunder mere, tilfældigt")
@opt("--fejl", type=float, help="andel af kaldene, der får en indsprøjtet fejl (0-1), fx 0.1; standard: ingen")
@opt("--fejl-seed", "fejl_seed", type=int, default=0, help="frø for fejlenes rækkefølge (samme frø, samme fejl)")
@opt("--fejl-typer", "fejl_typer", help="kun disse fejltyper, kommasepareret (fx reset_after,truncated_after)")
@opt("--fejl-kun-skriv", "fejl_kun_skriv", is_flag=True, help="kun skrivninger får fejl (Hent* og TokenTest ikke)")
@opt(
    "--adgang",
    multiple=True,
    help="CVR=KODE[,KODE…]: organisationen må kun læse og skrive disse kommuner (kan gentages); standard: alle",
)
@opt(
    "--auth",
    type=click.Choice(["certificate", "sts"]),
    default="certificate",
    help="sts: kræv SAML-token fra den simulerede STS (på /sts/service.svc)",
)
@HJAELP
def _sim_serve(**kw: Any) -> int:
    return run(cmd_sim_serve, **kw)


@_sim.command("cert", help="lav et testcertifikat til simulatoren")
@opt("--out", default=".", help="mappen, certifikat og nøgle skrives til")
@opt("--organisation", default="Testkommune", help="organisationens navn i testcertifikatet")
@opt("--cvr", default="29189900", help="CVR-nummeret i testcertifikatet")
@HJAELP
def _sim_cert(**kw: Any) -> int:
    return run(cmd_sim_cert, **kw)
