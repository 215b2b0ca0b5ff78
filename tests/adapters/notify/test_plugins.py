"""Third-party notifiers register through the ``crmkit.notifiers`` entry point group."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from crmkit.adapters.notify import LogNotifier, load_notifier, notifier_names
from crmkit.ports import Message

PLUGIN = """
class PagerNotifier:
    def __init__(self, prefix="PAGE"):
        self.channel = "pager"
        self.prefix = prefix
        self.sent = []

    def send(self, message):
        self.sent.append(f"{self.prefix}: {message.body}")
"""


@pytest.fixture
def installed_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A real (tiny) distribution on ``sys.path`` declaring a notifier entry point."""
    (tmp_path / "crmkit_pager.py").write_text(PLUGIN)
    dist = tmp_path / "crmkit_pager-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: crmkit-pager\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(
        "[crmkit.notifiers]\npager = crmkit_pager:PagerNotifier\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "crmkit_pager", raising=False)


def test_an_installed_plugin_is_listed_and_built_with_options(installed_plugin: None) -> None:
    assert "pager" in notifier_names()
    notifier = load_notifier("pager", prefix="ALERT")
    notifier.send(Message("k", "pager", "duty", "", "disk full"))
    assert notifier.channel == "pager"
    assert notifier.sent == ["ALERT: disk full"]  # type: ignore[attr-defined]


def test_built_in_notifiers_load_by_name() -> None:
    assert isinstance(load_notifier("log"), LogNotifier)
    assert {"inbox", "email", "webhook", "sms", "log"} <= set(notifier_names())


def test_an_unknown_notifier_names_what_is_available() -> None:
    with pytest.raises(LookupError, match=r"available: .*email"):
        load_notifier("carrier-pigeon")
