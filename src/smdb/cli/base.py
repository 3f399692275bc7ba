"""What every command shares: exit codes, input, settings, the click options and the one way a command runs.

click is the only parser: a command's options and the global ones given before it are merged into one
:class:`Args` and the command function runs through :func:`execute`, which turns every failure into one Danish
line and the documented exit code (docs/cli.md).
"""

from __future__ import annotations

import json
import logging
import os
import sys
import types
from collections.abc import Callable
from datetime import date
from typing import Any

import click

from smdb.cpr import scrub
from smdb.errors import ConfigurationError, SmdbError, SmdbUnavailable
from smdb.files import UnsafeFile, os_fejl, read_capped
from smdb.journal import NotAJournal
from smdb.logs import scrub_handlers

EXIT_OK, EXIT_VIOLATIONS, EXIT_INPUT = 0, 1, 2
#: Nothing to fix: SMDB (or the STS) could not be used, or courses were left for a later run; run again later.
EXIT_LATER = 4
MAX_INPUT_BYTES = 64 * 1024 * 1024


class Args(types.SimpleNamespace):
    """One invocation's parameters: the command's click parameters merged with the global options given before it
    (``smdb -v indberet f.json`` and ``smdb indberet f.json -v`` alike), and ``func``, the command to run."""

    func: Callable[[Args], int]


#: Commands that a rerun resumes (Ctrl-C says so): the journal skips what SMDB already has.
RESUMABLE: set[str] = set()


class UsageError(SmdbError):
    """Bad input, usage or configuration: exit code 2."""


# ----------------------------------------------------------------------------- input
#: The json module's messages (English) in Danish, by their start.
_JSON_FEJL = (
    ("Expecting value", "forventede en værdi"),
    ("Expecting property name", "forventede et feltnavn i dobbelte anførselstegn"),
    ("Expecting ',' delimiter", "forventede et komma"),
    ("Expecting ':' delimiter", "forventede et kolon"),
    ("Extra data", "der står mere efter JSON-værdien"),
    ("Unterminated string", "en tekst er ikke afsluttet med anførselstegn"),
    ("Invalid control character", "ugyldigt kontroltegn i en tekst"),
    ("Invalid \\escape", "ugyldig escape-sekvens"),
    ("Invalid \\uXXXX escape", "ugyldig \\u-escape"),
)


def read_json(path: str) -> Any:
    """Read a JSON file (``-`` for stdin) with errors that say where, never a traceback."""
    try:
        if path == "-":
            text = sys.stdin.read(MAX_INPUT_BYTES + 1).removeprefix("\ufeff")
        else:
            text = read_capped(path, MAX_INPUT_BYTES).decode("utf-8-sig")  # a BOM, as .NET exports write it
    except UnsafeFile as exc:
        raise UsageError(str(exc)) from None
    except FileNotFoundError:
        raise UsageError(f"{path}: filen findes ikke") from None
    except UnicodeDecodeError:
        raise UsageError(f"{path}: filen er ikke UTF-8") from None
    except OSError as exc:
        raise UsageError(f"{path}: kan ikke læses ({os_fejl(exc)})") from None
    if len(text) > MAX_INPUT_BYTES:
        raise UsageError("input er for stort")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        what = next((da for en, da in _JSON_FEJL if exc.msg.startswith(en)), "syntaksfejl")
        raise UsageError(f"{path}: ugyldig JSON i linje {exc.lineno}, kolonne {exc.colno}: {what}") from None
    except RecursionError:
        raise UsageError(f"{path}: JSON er for dybt indlejret") from None
    if not isinstance(data, dict | list):
        raise UsageError(f"{path}: forventede et forløb (objekt) eller en liste af forløb")
    if data == []:  # almost always an export that went wrong: say so rather than "all valid, all sent"
        raise UsageError(f"{path}: filen indeholder ingen forløb (en tom liste)")
    return data


# ----------------------------------------------------------------------------- configuration


def settings_of(args: Args) -> Any:
    """The settings: flags over ``SMDB_*`` over the config file (``--config`` or ``SMDB_CONFIG``); see
    :mod:`smdb.settings`."""
    from smdb.settings import SmdbSettings

    flags = {
        name: getattr(args, "kommune" if name == "kommunekode" else name, None)
        for name in SmdbSettings.model_fields
        if name != "cert_password"
    }
    for switch in (
        "strict",
        "allow_insecure_http",
        "require_signature_confirmation",
    ):  # store_true: absent means "not given", not False
        flags[switch] = True if getattr(args, switch, False) else None
    return SmdbSettings.load(args.config, **flags)


def reporting_clients(args: Args) -> tuple[Any, dict[int, Any] | None]:
    """The client, and with ``[smdb.kommuner.KODE]`` one per municipality with its own certificate, so each course
    is sent with its own municipality's (``indberet`` and ``udbakke koer``)."""
    from smdb.client import SmdbClient

    settings = settings_of(args)
    today = (lambda: args.today) if args.today else date.today
    clients = SmdbClient.per_kommune(settings, today=today) if settings.kommuner else None
    return SmdbClient.from_settings(settings, today=today), clients


def make_client(args: Args) -> Any:
    from smdb.client import SmdbClient

    today = getattr(args, "today", None)
    return SmdbClient.from_settings(settings_of(args), today=(lambda: today) if today else date.today)


def exit_code(summary: Any) -> int:
    """0 all through; 1 something needs fixing (data, refusals, setup), whatever else happened; 4 only a later run
    is needed (SMDB out of reach, not attempted, busy)."""
    if summary.ok:
        return EXIT_OK
    return EXIT_VIOLATIONS if summary.fix_needed else EXIT_LATER


def journal_target(args: Args) -> str:
    target: str | None = getattr(args, "journal", None) or os.environ.get("SMDB_JOURNAL")
    if not target:
        raise UsageError("angiv journalen, udbakken ligger i: --journal FIL|postgresql://… eller SMDB_JOURNAL")
    return target


def netfejl(exc: BaseException) -> str:
    """A network error in Danish words (requests' class names are English)."""
    import requests

    if isinstance(exc, requests.exceptions.Timeout):
        return "intet svar inden for tidsgrænsen"
    if isinstance(exc, requests.exceptions.SSLError):
        return "TLS-fejl"
    if isinstance(exc, requests.exceptions.ConnectionError):
        return "forbindelsen kunne ikke oprettes eller blev afbrudt"
    return "netværksfejl"


def kommune_of(args: Args) -> int:
    k: int | None = settings_of(args).kommunekode
    if k is None:
        raise UsageError("angiv kommunekoden med --kommune (eller SMDB_KOMMUNEKODE)")
    return k


class Dato(click.ParamType[date]):
    name = "dato"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> date:
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(str(value))
        except ValueError:
            self.fail(f"ugyldig dato {value!r}; brug YYYY-MM-DD", param, ctx)


class CprType(click.ParamType[str]):
    name = "cpr"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        from smdb.cpr import Cpr, CprError

        try:
            return str(Cpr(str(value)))
        except CprError as exc:
            self.fail(str(exc), param, ctx)  # the message never repeats the number


DATO = Dato()


def opt(*decls: str, help: str, **kw: Any) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A click option whose help names its default in Danish (click's own "[default: …]" is English)."""
    default = kw.get("default")
    if default not in (None, False, ()) and not kw.get("count") and "standard" not in help:
        help = f"{help} (standard: {default})"
    return click.option(*decls, help=help, **kw)


#: The options of every command that talks to SMDB (connection, identity, logging); accepted before the subcommand
#: (on the group) and after it (on the command): `smdb -v indberet f.json` and `smdb indberet f.json -v`.
GLOBAL_OPTIONS: list[Callable[[Callable[..., Any]], Callable[..., Any]]] = [
    opt("--config", help="TOML-fil med en [smdb]-sektion (eller SMDB_CONFIG)"),
    opt("--env", type=click.Choice(["local", "preprod", "prod"]), help="miljø (SMDB_ENV); standard preprod"),
    opt("--endpoint", help="eksplicit adresse, fx simulatorens (SMDB_ENDPOINT)"),
    opt("--cert", help="organisationscertifikat: .p12/.pfx eller PEM (SMDB_CERT)"),
    opt("--key", help="privat nøgle i PEM, hvis ikke i certifikatfilen (SMDB_KEY)"),
    opt("--server-cert", "server_cert", help="DST's certifikat til at verificere svar (SMDB_SERVER_CERT)"),
    opt("--strict", is_flag=True, default=None, help="kræv signerede svar, også uden DST-certifikat"),
    opt("--deadline", help="sekunder et kald højst må tage i alt, genforsøg medregnet (SMDB_DEADLINE); standard 120"),
    opt(
        "--allow-insecure-http",
        "allow_insecure_http",
        is_flag=True,
        default=None,
        help="tillad ukrypteret http:// til en anden maskine end denne (aldrig mod DST)",
    ),
    opt(
        "--require-sigconf",
        "require_signature_confirmation",
        is_flag=True,
        default=None,
        help="afvis signerede svar uden SignatureConfirmation af forespørgslens signatur "
        "(SMDB_REQUIRE_SIGNATURE_CONFIRMATION)",
    ),
    opt(
        "--answer-skew",
        "answer_skew",
        help="sekunder et signeret svar højst må være dannet før forespørgslen (SMDB_ANSWER_SKEW); standard 10",
    ),
    opt("--api-version", "api_version", type=click.Choice(["v1", "v0"]), help="webservicens version; standard v1"),
    opt(
        "--auth", type=click.Choice(["certificate", "sts"]), help="certifikat direkte, eller NemLog-in STS (SMDB_AUTH)"
    ),
    opt("--sts-url", "sts_url", help="STS-endpoint ved --auth sts (SMDB_STS_URL)"),
    opt("--sts-audience", "sts_audience", help="SMDB's entity id hos STS'en (SMDB_STS_AUDIENCE)"),
    opt(
        "--sts-cert",
        "sts_cert",
        help="STS'ens certifikat (PEM): STS'ens svar skal være signeret med det (SMDB_STS_CERT)",
    ),
    opt(
        "--sts-entity-id",
        "sts_entity_id",
        help="STS'ens entity id, anmodningens wsa:To (SMDB_STS_ENTITY_ID); "
        "standard https://signature.sts.nemlog-in.dk/",
    ),
    opt("-v", "--verbose", count=True, help="log (-v INFO, -vv DEBUG; CPR maskeres)"),
]


def _option_names(options: list[Callable[[Callable[..., Any]], Callable[..., Any]]]) -> list[str]:
    """The parameter names the options declare (read from the click parameters they attach): one list to edit."""

    def probe() -> None: ...

    for option in options:
        option(probe)
    return [str(p.name) for p in getattr(probe, "__click_params__", [])]


#: The names of the global options (merged from before and after the subcommand).
GLOBAL_NAMES = _option_names(GLOBAL_OPTIONS)


#: --help in Danish (click's own text is English).
HJAELP = click.help_option("-h", "--help", help="vis denne hjælp og afslut")


def with_global(f: Callable[..., Any]) -> Callable[..., Any]:
    for option in reversed(GLOBAL_OPTIONS):
        f = option(f)
    return HJAELP(f)


def run(func: Callable[[Args], int], **values: Any) -> int:
    """Merge the global options given before the subcommand (the group's) with those after it, and run ``func``
    the way every command runs: one Danish line and the documented exit code for every failure."""
    ctx = click.get_current_context()
    before: dict[str, Any] = (ctx.find_root().params or {}) if ctx.parent is not None else {}
    merged = {name: before.get(name) for name in GLOBAL_NAMES}
    for name, value in values.items():
        if name == "verbose":
            merged[name] = (merged.get(name) or 0) + (value or 0)
        elif value is not None or name not in merged:
            merged[name] = value
    args = Args(**merged, func=func)
    return execute(args)


@click.group(
    name="smdb",
    help="Indberetning til Stofmisbrugsdatabasen (SMDB). `smdb KOMMANDO --help` beskriver hver kommando.",
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 120},
)
@click.version_option(
    None, "--version", package_name="smdb-client", message="smdb-client %(version)s", help="vis versionen og afslut"
)
@with_global
def cli(**_: Any) -> None:
    """The group: its options are merged into each command's (see :func:`run`)."""


JOURNAL_OPT = opt(
    "--journal",
    help="journalen, udbakken ligger i: en SQLite-fil eller postgresql://… (SMDB_JOURNAL)",
)


def execute(args: Args) -> int:
    """Run a command; every failure becomes one Danish line and the documented exit code."""
    if args.verbose:
        logging.basicConfig(
            level=logging.DEBUG if args.verbose > 1 else logging.INFO,
            stream=sys.stderr,
            format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        )
        # every record this process logs, from any library (signxml's canonicalised envelopes too), is masked
        scrub_handlers()
    try:
        code: int = args.func(args)
        return code
    except (UsageError, UnsafeFile, NotAJournal, ConfigurationError) as exc:
        print(f"smdb: {scrub(str(exc))}", file=sys.stderr)
        return EXIT_INPUT
    except SmdbUnavailable as exc:  # SMDB or the STS out of reach: nothing to fix, try again later
        print(f"smdb: {scrub(str(exc))}", file=sys.stderr)
        return EXIT_LATER
    except SmdbError as exc:
        print(f"smdb: {scrub(str(exc))}", file=sys.stderr)
        return EXIT_VIOLATIONS
    except (FileNotFoundError, PermissionError, IsADirectoryError, NotADirectoryError, FileExistsError) as exc:
        # a path given on the command line (an output file in a missing directory, say): the user's to fix
        kinds: tuple[tuple[type[OSError], str], ...] = (
            (FileNotFoundError, "findes ikke (eller mappen findes ikke)"),
            (PermissionError, "må ikke læses eller skrives"),
            (IsADirectoryError, "er en mappe, ikke en fil"),
            (NotADirectoryError, "har en del, der ikke er en mappe"),
            (FileExistsError, "findes allerede"),
        )
        what = next(text for kind, text in kinds if isinstance(exc, kind))
        print(f"smdb: {exc.filename or 'filen'} {what}", file=sys.stderr)
        return EXIT_INPUT
    except KeyboardInterrupt:
        hint = " – kør igen: det, SMDB allerede har, sendes ikke igen" if args.func.__name__ in RESUMABLE else ""
        print(f"\nsmdb: afbrudt{hint}", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `smdb hent ... | head`: the reader left; say nothing more
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_VIOLATIONS
    except Exception as exc:
        if os.environ.get("SMDB_DEBUG"):
            raise
        print(f"smdb: intern fejl ({type(exc).__name__}): {scrub(str(exc))[:300]}", file=sys.stderr)
        return 3
