"""The ``smdb`` command for integration scripts.

Exit codes are a contract: 0 ok; 1 rule violations, rejected or failed reports (fix something); 2 unreadable input,
bad usage or configuration; 4 run again later; 3 only for a bug. Bad input never produces a traceback (set
``SMDB_DEBUG=1`` to see one for an internal error), and CPR numbers are masked in everything printed to stderr.
One module per command group; :mod:`smdb.cli.base` holds what they share.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

import click

from smdb.cli import indberet, opslag, sim, systemskifte, udbakke  # noqa: F401 - each registers its commands
from smdb.cli.base import EXIT_INPUT, EXIT_LATER, EXIT_OK, EXIT_VIOLATIONS, UsageError, cli, read_json
from smdb.cpr import scrub
from smdb.output import print_rows as _print_rows

__all__ = [
    "EXIT_INPUT",
    "EXIT_LATER",
    "EXIT_OK",
    "EXIT_VIOLATIONS",
    "UsageError",
    "_print_rows",
    "_vis_advarsel",
    "cli",
    "main",
    "read_json",
]


def _terminate(signum: int, frame: object) -> None:
    """SIGTERM (a scheduler stopping the job) is handled like Ctrl-C: the summary of what was done, exit 130."""
    raise KeyboardInterrupt


def _vis_advarsel(message: Warning | str, category: type[Warning], *_: Any, **__: Any) -> None:
    """The library's warnings (no DST certificate, a certificate expiring soon, …) as one line, not Python's."""
    print(f"smdb: advarsel: {scrub(str(message))}", file=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    import signal
    import threading
    import warnings

    warnings.showwarning = _vis_advarsel
    previous = None
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        return _main(argv)
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _param_name(param: click.Parameter | None) -> str:
    if isinstance(param, click.Option):
        return param.opts[-1] if param.opts else str(param.name)
    return (param.human_readable_name if param is not None else "argumentet").upper()


def _usage_text(exc: click.UsageError) -> str:
    """click's usage errors in Danish (its own texts are English)."""
    if isinstance(exc, click.MissingParameter):
        return f"{_param_name(exc.param)} mangler"
    if isinstance(exc, click.NoSuchOption):
        return f"ukendt tilvalg {exc.option_name}"
    if isinstance(exc, click.BadParameter):
        name = _param_name(exc.param)
        if exc.param is not None and isinstance(exc.param.type, click.Choice):
            return f"{name} skal være en af: {', '.join(str(c) for c in exc.param.type.choices)}"
        if exc.param is not None and exc.param.type in (click.INT, click.FLOAT):
            return f"{name} skal være et tal"
        return f"{name}: {exc.message}"
    if isinstance(exc, click.BadOptionUsage):
        return f"{exc.option_name} bruges forkert"
    if "No such command" in exc.message:
        return f"ukendt kommando: {exc.message.split(chr(39))[1] if chr(39) in exc.message else exc.message}"
    return exc.format_message()


def _main(argv: Sequence[str] | None) -> int:
    try:
        result = cli.main(args=list(argv) if argv is not None else None, prog_name="smdb", standalone_mode=False)
    except click.exceptions.Exit as done:  # --help, --version
        return int(done.exit_code)
    except click.UsageError as exc:  # a wrong option or value: the user's to fix
        print(f"smdb: {scrub(_usage_text(exc))}", file=sys.stderr)
        if exc.ctx is not None:
            print(f"(se: {exc.ctx.command_path} --help)", file=sys.stderr)
        return EXIT_INPUT
    except click.Abort:
        return 130
    return int(result) if isinstance(result, int) else EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
