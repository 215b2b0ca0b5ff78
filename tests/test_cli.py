"""The ``crmkit`` command line: the demo runs end to end and the schema commands work."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from crmkit.cli import main


def test_demo_creates_then_reuses_the_demo_tenant(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "demo.sqlite"
    assert main(["demo", "--db", str(db)]) == 0
    first = capsys.readouterr().out
    assert "Created the demo tenant with 10 customers" in first
    assert "second save refused" in first
    assert "scan fired" in first
    assert main(["demo", "--db", str(db)]) == 0
    again = capsys.readouterr().out
    assert re.search(r"Reusing the demo tenant: 11 customers", again)
    assert "Funnel:" in again
    assert main(["demo", "--db", str(db), "--reset"]) == 0
    assert "Created the demo tenant" in capsys.readouterr().out


def test_db_upgrade_and_current(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "fresh.sqlite"
    assert main(["db", "current", "--url", str(db)]) == 2  # reads, never creates
    assert f"no database at {db}" in capsys.readouterr().err
    empty = tmp_path / "empty.sqlite"
    empty.touch()
    assert main(["db", "current", "--url", str(empty)]) == 0
    assert "at nothing — behind" in capsys.readouterr().out
    assert main(["db", "upgrade", "--url", str(db)]) == 0
    assert "upgraded to" in capsys.readouterr().out
    assert main(["db", "current", "--url", str(db)]) == 0
    assert "up to date" in capsys.readouterr().out


# -- secrets, errors and read-only commands -------------------------------------------------

PG_URL = os.environ.get("CRMKIT_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _with_password(url: str, password: str) -> str:
    scheme, rest = url.split("://", 1)
    credentials, host = rest.rsplit("@", 1)
    user = credentials.split(":", 1)[0]
    return f"{scheme}://{user}:{password}@{host}"


def _unreachable(url: str, *, port: int | None = None, database: str | None = None) -> str:
    scheme, rest = url.split("://", 1)
    credentials, place = rest.rsplit("@", 1)
    host_port, _, name = place.partition("/")
    host = host_port.rsplit(":", 1)[0]
    return f"{scheme}://{credentials}@{host}:{port or 5432}/{database or name}"


def _one_clear_line(capsys: pytest.CaptureFixture[str]) -> str:
    out, err = capsys.readouterr()
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("crmkit: ")
    assert "Traceback" not in err
    return lines[0]


@pytest.mark.parametrize(
    "argv",
    [
        ["db", "current", "--url"],
        ["db", "upgrade", "--url"],
        ["demo", "--db"],
    ],
)
@pytest.mark.parametrize("wrong", ["port", "database"])
def test_a_wrong_server_is_one_clear_line_without_the_password(
    argv: list[str], wrong: str, capsys: pytest.CaptureFixture[str]
) -> None:
    secret = "s3cr3t-Pa55"
    url = _with_password(PG_URL, secret)
    bad = _unreachable(url, port=1) if wrong == "port" else _unreachable(url, database="nope_x")
    assert main([*argv, bad]) == 2
    line = _one_clear_line(capsys)
    assert secret not in line
    assert "***" in line


def test_a_printed_url_never_shows_the_password(capsys: pytest.CaptureFixture[str]) -> None:
    secret = "s3cr3t-Pa55"
    assert main(["db", "current", "--url", _with_password(PG_URL, secret)]) == 0
    out = capsys.readouterr().out
    assert secret not in out
    assert ":***@" in out


@pytest.mark.parametrize("argv", [["db", "current", "--url"], ["db", "upgrade", "--url"]])
@pytest.mark.parametrize(
    "target", ["no/such/dir/crm.sqlite", "a folder", "mysql://u:pw@127.0.0.1/x", "foo://x"]
)
def test_a_wrong_path_or_url_is_one_clear_line(
    argv: list[str], target: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if target == "a folder":
        target = str(tmp_path)
    elif "://" not in target:
        target = str(tmp_path / target)
    assert main([*argv, target]) == 2
    line = _one_clear_line(capsys)
    assert ":pw@" not in line


def test_a_demo_in_a_missing_folder_is_one_clear_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["demo", "--db", str(tmp_path / "no" / "demo.sqlite")]) == 2
    assert "no" in _one_clear_line(capsys)


def test_db_current_never_creates_a_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CRMKIT_DATABASE_URL", raising=False)
    assert main(["db", "current"]) == 2
    assert "crmkit.sqlite" in _one_clear_line(capsys)
    assert main(["db", "current", "--url", "elsewhere.sqlite"]) == 2
    _one_clear_line(capsys)
    assert list(tmp_path.iterdir()) == []


def test_db_current_leaves_an_existing_database_as_it_was(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "crm.sqlite"
    assert main(["db", "upgrade", "--url", str(db)]) == 0
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    assert main(["db", "current", "--url", str(db)]) == 0
    assert "up to date" in capsys.readouterr().out
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before
