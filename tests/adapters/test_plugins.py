"""Storage plugins are found through the ``crmkit.storage`` entry-point group."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

import crmkit
from crmkit.adapters.memory import MemoryStorage
from crmkit.adapters.plugins import available, load


@pytest.fixture
def installed_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A real (tiny) distribution on sys.path that declares a storage entry point."""
    (tmp_path / "fakestore.py").write_text(
        textwrap.dedent("""
        from crmkit.adapters.memory import MemoryStorage

        opened = []

        def factory(url):
            opened.append(url)
            return MemoryStorage()
    """)
    )
    info = tmp_path / "fakestore-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: fakestore\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[crmkit.storage]\nfakestore = fakestore:factory\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    sys.modules.pop("fakestore", None)


def test_connect_opens_a_storage_plugin_by_url_scheme(installed_plugin: Path) -> None:
    crm = crmkit.connect("fakestore://bucket/crm")
    assert isinstance(crm.storage, MemoryStorage)
    assert sys.modules["fakestore"].opened == ["fakestore://bucket/crm"]
    assert "fakestore" in available("crmkit.storage")


def test_an_unknown_scheme_names_what_is_installed() -> None:
    with pytest.raises(LookupError, match=r"no crmkit\.storage plugin named 'nosuch'"):
        crmkit.connect("nosuch://x")


def test_only_crmkit_groups_are_read() -> None:
    with pytest.raises(ValueError, match="unknown plugin group"):
        load("console_scripts", "crmkit")
