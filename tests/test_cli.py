"""The `smdb` command contract: outputs, exit codes, no tracebacks, no unmasked CPR."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from smdb import eksempler as ex
from smdb.cli import main

TODAY = "2025-06-01"


def write(tmp_path: Path, data: Any, name: str = "in.json") -> str:
    p = tmp_path / name
    p.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return str(p)


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def test_validate_valid_course_exits_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(["validate", write(tmp_path, ex.kontaktforloeb()), "--today", TODAY], capsys)
    assert code == 0
    assert "ingen regelbrud" in out


def test_validate_json_format_lists_violations_and_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = ex.kontaktforloeb()
    del bad["IVÆR"]["PersonGrundskoleuddannelseKode"]
    bad["IVÆR"]["LaegesamtaleAfholdtDato"] = "2024-03-11"
    code, out, _ = run(
        ["validate", write(tmp_path, [ex.kontaktforloeb(kommunekode=147), bad]), "--today", TODAY, "--format", "json"],
        capsys,
    )
    assert code == 1
    result = json.loads(out)
    assert result["valid"] is False
    got = {(v["forloeb"], v["rule"], v["code"], tuple(v["fields"])) for v in result["violations"]}
    assert (1, "6.1.3", "grundskole_paakraevet", ("12-IVÆR",)) in got
    assert (1, "6.1.3", "laegesamtale_tidsfrist_aarsag_paakraevet", ("29-IVÆR", "26-IVÆR", "2-ANM", "1-IVÆR")) in got
    assert all(set(v) == {"forloeb", "rule", "fields", "code", "message"} for v in result["violations"])


def test_validate_future_date_uses_injected_today(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, ex.kontaktforloeb())
    assert run(["validate", path, "--today", "2024-09-05"], capsys)[0] == 1
    assert run(["validate", path, "--today", "2024-09-06"], capsys)[0] == 0


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        ("{not json", "ugyldig JSON i linje 1"),
        ('"just a string"', "forventede et forløb"),
        ("", "ugyldig JSON"),
    ],
)
def test_unreadable_input_exits_2_with_a_clear_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, needle: str
) -> None:
    p = tmp_path / "bad.json"
    p.write_text(content)
    code, out, err = run(["validate", str(p)], capsys)
    assert code == 2
    assert needle in err
    assert "Traceback" not in out + err


def test_missing_file_and_non_utf8_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["validate", str(tmp_path / "nope.json")], capsys)[0] == 2
    p = tmp_path / "latin1.json"
    p.write_bytes('{"a": "æ"}'.encode("latin-1"))
    assert run(["validate", str(p)], capsys)[0] == 2


def test_wrong_types_unknown_fields_and_codes_are_violations_naming_the_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    c = ex.kontaktforloeb()
    c["ANM"]["PersonKoenKode"] = 1
    c["IVÆR"]["PersonBoernMedKontaktKvantitet"] = "to"
    c["IVÆR"]["Ukendt"] = True
    c["TILB"] = "ikke en liste"
    code, out, _err = run(["validate", write(tmp_path, c), "--format", "json", "--today", TODAY], capsys)
    assert code == 1
    msgs = [v["message"] for v in json.loads(out)["violations"]]
    assert any("[1-ANM] PersonKoenKode" in m for m in msgs)
    assert any("[15-IVÆR] PersonBoernMedKontaktKvantitet" in m for m in msgs)
    assert any("Ukendt" in m for m in msgs)
    assert any("TILB" in m for m in msgs)


def test_cpr_never_printed_unmasked(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    c = ex.kontaktforloeb()
    c["ANM"]["PersonIdentifikator"] = "3102904322"
    d = ex.kontaktforloeb(kommunekode=147)
    d["ANM"]["BehandlingTidligereKode"] = "0101904322"
    _, out, err = run(["validate", write(tmp_path, [c, d]), "--format", "json"], capsys)
    assert "3102904322" not in out + err and "0101904322" not in out + err


def test_large_input_file_is_handled(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    courses = [ex.kontaktforloeb(kommunekode=100 + i % 800, fuld_stofmatrix=True) for i in range(1500)]
    bad = ex.kontaktforloeb(kommunekode=999)
    bad["IVÆR"]["AlkoholTypiskIndtagelsesmaadeKode"] = "04"
    path = write(tmp_path, [*courses, bad])
    assert os.path.getsize(path) > 10 * 1024 * 1024
    code, out, _ = run(["validate", path, "--today", TODAY, "--format", "json"], capsys)
    assert code == 1
    violations = json.loads(out)["violations"]
    assert [(v["forloeb"], v["code"]) for v in violations] == [(1500, "stof_ugyldig_indtagelsesmaade")]


def test_schema_command_prints_a_root_schema_that_validates_input_files(capsys: pytest.CaptureFixture[str]) -> None:
    """`smdb schema` is usable from other languages as it is: a root schema (a course or a list of courses) that
    accepts the examples and refuses what is not a course (checked with the jsonschema package)."""
    from jsonschema import Draft202012Validator

    code, out, _ = run(["schema"], capsys)
    assert code == 0
    schema = json.loads(out)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema" and schema["$id"]
    Draft202012Validator.check_schema(schema)
    validator = Draft202012Validator(schema)
    good = [
        ex.kontaktforloeb(),
        ex.kontaktforloeb(afsluttet_efter_dage=None, fuld_stofmatrix=True),
        ex.kontaktforloeb(dage_til_ivaerksaettelse=None),
        ex.indskrivningsforloeb(),
    ]
    for course in [*good, good]:
        assert not list(validator.iter_errors(json.loads(json.dumps(course, default=str)))), course
    for bad in ({"foo": "bar"}, [{"foo": "bar"}], 42, {**ex.kontaktforloeb(), "ukendt": 1}):
        assert list(validator.iter_errors(json.loads(json.dumps(bad, default=str)))), bad
    assert "PersonPsykiskFunktionsnedsættelseKode" in out


def test_demo_runs_end_to_end(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(["demo"], capsys)
    assert code == 0, out + err
    assert "Demo gennemført som forventet" in out
    assert "[9-TILB] AutorisationKodeTekst" in out
    for cpr in ("0101904322", "1506851233", "2010754321", "1203991238"):
        assert cpr not in out + err


def test_console_script_is_installed_and_reports_usage_errors() -> None:
    proc = subprocess.run([sys.executable, "-m", "smdb.cli", "validate"], capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.splitlines()[0] == "smdb: FILE mangler" and "--help" in proc.stderr


def test_certificate_problems_are_configuration_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SMDB_ENV", "preprod")
    monkeypatch.setenv("SMDB_CERT", str(tmp_path / "findes-ikke.p12"))
    assert main(["whoami"]) == 2
    assert "kan ikke læses" in capsys.readouterr().err
    from smdb.auth import testcert

    (tmp_path / "org.p12").write_bytes(testcert.to_pkcs12(testcert.generate(), "rigtig"))
    monkeypatch.setenv("SMDB_CERT", str(tmp_path / "org.p12"))
    monkeypatch.setenv("SMDB_CERT_PASSWORD", "forkert")
    assert main(["whoami"]) == 2
    err = capsys.readouterr().err
    assert "forkert adgangskode" in err and "rigtig" not in err and "Traceback" not in err


def test_a_utf8_bom_is_accepted_and_the_version_is_shown(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """.NET exports start UTF-8 files with a BOM; `smdb --version` says which library a script runs."""
    from smdb import __version__

    path = tmp_path / "bom.json"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps(ex.kontaktforloeb(), default=str).encode())
    assert main(["validate", str(path), "--today", "2025-06-01"]) == 0
    assert main(["--version"]) == 0
    assert f"smdb-client {__version__}" in capsys.readouterr().out


def _ordinary_mistakes(tmp: Path, busy_port: int) -> list[tuple[str, list[str], dict[str, str], str]]:
    """(what, argv, environment, what the one-line message must name): each is the user's to fix, so exit 2."""
    from smdb.auth import testcert

    creds = testcert.generate()
    cert_pem, key_pem = testcert.to_pem(creds, "hemmelig")
    (tmp / "cert.pem").write_bytes(cert_pem)
    (tmp / "key.pem").write_bytes(key_pem)
    (tmp / "cfg.toml").write_text('[smdb]\nkommunekode = 101\nendpont = "https://x"\n')
    (tmp / "a-file").write_text("x")
    local = {"SMDB_ENV": "local", "SMDB_ENDPOINT": "http://127.0.0.1:1"}
    return [
        ("port in use", ["sim", "serve", "--port", str(busy_port)], {}, "optaget"),
        ("port out of range", ["sim", "serve", "--port", "70000"], {}, "65535"),
        ("missing directory", ["sim", "serve", "--db", str(tmp / "mangler" / "sim.db")], {}, "findes ikke"),
        ("output under a file", ["sim", "cert", "--out", str(tmp / "a-file" / "sub")], {}, "a-file"),
        ("endpoint without scheme", ["--endpoint", "localhost:8080", "whoami"], {"SMDB_ENV": "local"}, "http(s)"),
        ("PEM without its key", ["--cert", str(tmp / "cert.pem"), "whoami"], local, "--key"),
        (
            "unset password variable",
            ["--cert", str(tmp / "cert.pem"), "--key", str(tmp / "key.pem"), "whoami"],
            local,
            "SMDB_CERT_PASSWORD",
        ),
        ("unknown config key", ["--config", str(tmp / "cfg.toml"), "whoami"], local, "endpont"),
    ]


@pytest.mark.parametrize("index", range(8))
def test_ordinary_mistakes_exit_2_with_one_danish_line_naming_what_to_fix(
    index: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for var in ("SMDB_ENV", "SMDB_ENDPOINT", "SMDB_CERT", "SMDB_KEY", "SMDB_CERT_PASSWORD", "SMDB_CONFIG"):
        monkeypatch.delenv(var, raising=False)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        what, argv, env, names = _ordinary_mistakes(tmp_path, busy.getsockname()[1])[index]
        for k, v in env.items():
            monkeypatch.setenv(k, v)
        assert main(argv) == 2, what
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("smdb: "), (what, err)
    assert names in err, (what, err)
    assert "intern fejl" not in err and "Errno" not in err, (what, err)


def test_global_options_are_accepted_after_the_subcommand_too(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`smdb validate f.json -v` as well as `smdb -v validate f.json`; an option before is not lost after."""
    path = tmp_path / "f.json"
    path.write_text(json.dumps(ex.kontaktforloeb(), default=str))
    assert main(["validate", str(path), "-v", "--today", "2025-06-01"]) == 0
    assert main(["-v", "validate", str(path), "--today", "2025-06-01"]) == 0
    from smdb.cli import opslag
    from smdb.cli.base import Args

    seen: list[Args] = []
    monkeypatch.setattr(opslag, "cmd_whoami", lambda args: seen.append(args) or 0)
    assert main(["--env", "local", "whoami", "--endpoint", "http://127.0.0.1:1", "-vv"]) == 0
    assert (seen[0].env, seen[0].endpoint, seen[0].verbose) == ("local", "http://127.0.0.1:1", 2)


def test_every_option_of_every_command_has_a_description_and_names_its_default() -> None:
    import click

    from smdb.cli import cli

    missing: list[str] = []

    def walk(command: click.Command, path: str) -> None:
        if not command.help:
            missing.append(path)
        for param in command.params:
            if isinstance(param, click.Option) and not param.help:
                missing.append(f"{path} {param.name}")
        if isinstance(command, click.Group):
            for name, sub in command.commands.items():
                walk(sub, f"{path} {name}")

    walk(cli, "smdb")
    assert missing == []
    helps = {name: cli.commands[name].get_help(click.Context(cli.commands[name])) for name in cli.commands}
    assert "(standard: 4)" in helps["indberet"] and "(standard: csv)" in helps["aktivliste"]


def test_shell_completion_comes_with_click() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "smdb"],
        capture_output=True,
        text=True,
        env={**os.environ, "_SMDB_COMPLETE": "bash_source"},
    )
    assert proc.returncode == 0 and "_smdb_completion" in proc.stdout
