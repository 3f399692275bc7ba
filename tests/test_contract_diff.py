"""``smdb contract diff``: every difference between DST's WSDL and the shipped contract, exit 1 when they differ."""

from __future__ import annotations

from pathlib import Path

import pytest

from smdb.cli import main
from smdb.sim import SimServer
from smdb.soap.contract import build_wsdl

ROOT = Path(__file__).resolve().parents[1]


def test_the_shipped_wsdls_and_the_simulators_have_no_differences(
    sim: SimServer, capsys: pytest.CaptureFixture[str]
) -> None:
    files = [str(p) for p in sorted((ROOT / "wsdl").glob("*.wsdl"))]
    assert main(["contract", "diff", *files]) == 0
    served = f"{sim.url}/smdbwebservice/api/external/v1/securehentdata.svc?singlewsdl"
    assert main(["contract", "diff", served]) == 0
    out = capsys.readouterr().out
    assert out.count("ingen forskelle") == 4 and "HentData" in out and "TokenTest" in out


def test_each_kind_of_difference_is_listed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    theirs = build_wsdl("HentData").decode()
    theirs = theirs.replace('name="PersonKoenKode" type="xs:string"', 'name="PersonKoenKode" type="xs:int"')
    theirs = theirs.replace('name="PersonGravidKode"', 'name="GravidKode"')
    theirs = theirs.replace(
        "http://smdb.dst.dk/api/external/v1/ISecureHentData/HentLandeliste",
        "http://tempuri.org/ISecureHentData/HentLandeliste",
    )
    theirs = theirs.replace('<wsdl:operation name="HentYdelsespakker">', '<wsdl:operation name="HentPakker">')
    path = tmp_path / "dst.wsdl"
    path.write_text(theirs, encoding="utf-8")
    assert main(["contract", "diff", str(path)]) == 1
    out = capsys.readouterr().out
    assert "~ Anmodning.PersonKoenKode: type hos DST xs:int, i smdb-client xs:string" in out
    assert "+ Anmodning.GravidKode (xs:string) findes kun hos DST" in out
    assert "- Anmodning.PersonGravidKode (xs:string) findes kun i smdb-client" in out
    assert "~ operation HentLandeliste: SOAPAction hos DST 'http://tempuri.org/ISecureHentData/HentLandeliste'" in out
    assert "+ operation HentPakker findes kun hos DST" in out


def test_a_file_that_is_not_a_wsdl_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "x.xml").write_text("<html/>")
    assert main(["contract", "diff", str(tmp_path / "x.xml")]) == 2
    assert main(["contract", "diff"]) == 2
    assert "WSDL" in capsys.readouterr().err
