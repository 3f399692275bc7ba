"""One settings model for the library and the CLI: arguments over SMDB_* over the config file (smdb.settings)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from smdb.auth import testcert
from smdb.client import SmdbClient
from smdb.errors import ConfigurationError
from smdb.settings import SmdbSettings
from smdb.sim import SimServer


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in SmdbSettings.model_fields:
        monkeypatch.delenv(f"SMDB_{name.upper()}", raising=False)
    monkeypatch.delenv("SMDB_CONFIG", raising=False)


def test_arguments_beat_the_environment_which_beats_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "smdb.toml"
    config.write_text('[smdb]\nenv = "local"\nendpoint = "http://fil"\nkommunekode = 101\ndeadline = 30\n')
    monkeypatch.setenv("SMDB_CONFIG", str(config))
    monkeypatch.setenv("SMDB_ENDPOINT", "http://miljoe")
    monkeypatch.setenv("SMDB_KOMMUNEKODE", "147")
    s = SmdbSettings.load(kommunekode=851)
    assert (s.env, s.endpoint, s.kommunekode, s.deadline) == ("local", "http://miljoe", 851, 30.0)


def test_mistakes_are_danish_configuration_errors_naming_the_setting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SMDB_ENV", "test")
    with pytest.raises(ConfigurationError, match=r"--env \(SMDB_ENV\) skal være 'local', 'preprod' eller 'prod'"):
        SmdbSettings.load()
    monkeypatch.delenv("SMDB_ENV")
    typo = tmp_path / "typo.toml"
    typo.write_text('[smdb]\nendpont = "x"\n')
    with pytest.raises(ConfigurationError, match="ukendte nøgler: endpont"):
        SmdbSettings.load(typo)
    secret = tmp_path / "secret.toml"
    secret.write_text('[smdb]\ncert_password = "hemmelig"\n')
    with pytest.raises(ConfigurationError, match="SMDB_CERT_PASSWORD"):
        SmdbSettings.load(secret)
    with pytest.raises(ConfigurationError, match="--deadline"):
        SmdbSettings.load(deadline=0)


def test_the_password_is_never_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMDB_CERT_PASSWORD", "hemmelig-kode")
    s = SmdbSettings.load()
    assert s.cert_password is not None and s.cert_password.get_secret_value() == "hemmelig-kode"
    assert "hemmelig-kode" not in repr(s) and "hemmelig-kode" not in str(s.model_dump())


def test_a_client_from_the_environment_as_the_cli_has_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with SimServer() as sim:
        cert_pem, key_pem = testcert.to_pem(sim.client_credentials, "pw")
        (tmp_path / "cert.pem").write_bytes(cert_pem)
        (tmp_path / "key.pem").write_bytes(key_pem)
        for name, value in {
            "ENV": "local",
            "ENDPOINT": sim.url,
            "CERT": str(tmp_path / "cert.pem"),
            "KEY": str(tmp_path / "key.pem"),
            "CERT_PASSWORD": "pw",
        }.items():
            monkeypatch.setenv(f"SMDB_{name}", value)
        client = SmdbClient.from_env()
        assert client.whoami()["Cvr"] == "29189900"
        settings = SmdbSettings.load(deadline=30)
        assert SmdbClient.from_settings(settings).echo("hej") == "hej"
        # a transport option given beside the settings wins over them; the others stay as the settings have them
        tuned = SmdbClient.from_settings(settings, retries=0, answer_skew=timedelta(seconds=3))
        assert (tuned.options.retries, tuned.options.answer_skew, tuned.options.deadline) == (
            0,
            timedelta(seconds=3),
            30,
        )
