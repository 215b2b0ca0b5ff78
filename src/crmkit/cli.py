"""The ``crmkit`` command line: ``crmkit demo``, ``crmkit db upgrade``, ``crmkit db current``."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

__all__ = ["main"]


def _url(value: str) -> str:
    if "://" in value:
        return value
    return f"sqlite:///{Path(value).expanduser().resolve()}"


def _demo(args: argparse.Namespace) -> int:
    from crmkit.connect import connect
    from crmkit.demo import run_demo

    url = _url(args.db)
    if args.reset and url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    print(f"Database: {url}")
    run_demo(connect(url))
    return 0


def _db(args: argparse.Namespace) -> int:
    from crmkit.adapters.sql.engine import create_engine
    from crmkit.adapters.sql.migrate import current_revisions, head_revisions, upgrade

    url = _url(args.url or os.environ.get("CRMKIT_DATABASE_URL", "crmkit.sqlite"))
    engine = create_engine(url)
    try:
        if args.action == "upgrade":
            upgrade(engine)
            print(f"{url}: upgraded to {', '.join(sorted(current_revisions(engine)))}")
        else:
            current = sorted(current_revisions(engine))
            heads = sorted(head_revisions())
            state = "up to date" if current == heads else f"behind (heads: {', '.join(heads)})"
            print(f"{url}: at {', '.join(current) or 'nothing'} — {state}")
    finally:
        engine.dispose()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``crmkit`` console script."""
    parser = argparse.ArgumentParser(prog="crmkit", description="crmkit command line")
    commands = parser.add_subparsers(dest="command", required=True)

    demo = commands.add_parser("demo", help="load the demo tenant and run a few flows")
    demo.add_argument(
        "--db",
        default="crmkit-demo.sqlite",
        help="SQLite file or database URL (default: crmkit-demo.sqlite)",
    )
    demo.add_argument("--reset", action="store_true", help="start from an empty SQLite file")
    demo.set_defaults(handler=_demo)

    db = commands.add_parser("db", help="schema management")
    db.add_argument("action", choices=["upgrade", "current"])
    db.add_argument("--url", help="database URL or SQLite path (default: $CRMKIT_DATABASE_URL)")
    db.set_defaults(handler=_db)

    args = parser.parse_args(argv)
    return int(args.handler(args))


if __name__ == "__main__":
    sys.exit(main())
