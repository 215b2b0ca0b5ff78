"""The ``crmkit`` command line: ``crmkit demo``, ``crmkit db upgrade``, ``crmkit db current``.

What a command prints may end up in a CI log or a terminal someone else reads, so a
database URL is always shown with its password masked (``postgresql://u:***@db/crm``),
and the password is scrubbed from any driver message quoted. A database that cannot
be reached or opened — wrong host, port, database, path or URL — is answered with one
line on standard error and exit code 2, not a traceback. ``crmkit db current`` only
reads: it never creates a SQLite file and opens an existing one read-only.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn
from urllib.parse import quote

if TYPE_CHECKING:
    import sqlalchemy as sa

__all__ = ["main"]

_EXIT_REFUSED = 2
_DEFAULT_DB = "crmkit.sqlite"


class _Refused(Exception):
    """A command cannot go on; the message is the one line the user sees."""


def _url(value: str) -> str:
    if "://" in value:
        return value
    return f"sqlite:///{Path(value).expanduser().resolve()}"


def _password(url: str) -> str | None:
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).password
    except ArgumentError:
        match = re.match(r"[^:/]+://[^:/@]*:([^@]*)@", url)
        return match.group(1) if match else None


def _shown(url: str) -> str:
    """``url`` fit to print: its password, if any, replaced by ``***``."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        # Not a URL SQLAlchemy parses (a plugin's scheme): mask user:password@ by hand.
        return re.sub(r"(://[^:/@]*):[^@]*@", r"\1:***@", url)


def _scrub(text: str, url: str) -> str:
    """``text`` without ``url``'s password, however a driver quoted it."""
    password = _password(url)
    text = text.replace(url, _shown(url))
    if password:
        text = text.replace(password, "***")
        text = text.replace(quote(password, safe=""), "***")
    return text


def _refuse(url: str, error: BaseException) -> NoReturn:
    """Turn a driver or storage error into the one line the user sees."""
    cause = getattr(error, "orig", None) or error
    lines = [line.strip() for line in str(cause).splitlines() if line.strip()]
    detail = lines[0] if lines else type(cause).__name__
    # SQLAlchemy prefixes "(module.ErrorType)"; the user wants the sentence.
    detail = re.sub(r"^\([\w.]+\)\s*", "", detail)
    if isinstance(cause, ImportError):
        detail = f"its driver is not installed ({detail})"
    elif type(cause).__name__ == "NoSuchModuleError":
        detail = f"no installed driver or storage plugin understands {url.split(':', 1)[0]}"
    raise _Refused(_scrub(f"cannot use the database {_shown(url)}: {detail}", url)) from error


def _opening_errors() -> tuple[type[BaseException], ...]:
    """What opening a database raises when the URL, server or file is wrong."""
    from sqlalchemy.exc import SQLAlchemyError

    from crmkit.kernel.errors import CrmError

    # LookupError: no storage plugin for the scheme; ImportError: a driver is missing;
    # OSError: a path the process cannot use.
    return (SQLAlchemyError, CrmError, LookupError, ImportError, OSError)


def _demo(args: argparse.Namespace) -> int:
    from crmkit.connect import connect
    from crmkit.demo import run_demo

    url = _url(args.db)
    if args.reset and url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    _require_folder(url)
    try:
        crm = connect(url)
    except _opening_errors() as error:
        _refuse(url, error)
    print(f"Database: {_shown(url)}")
    run_demo(crm)
    return 0


def _require_folder(url: str) -> None:
    # SQLite creates a missing file but not a missing folder, and says only "unable
    # to open database file"; the path the user typed is the helpful answer.
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///").split("?", 1)[0])
        if path.name != ":memory:" and not path.parent.is_dir():
            raise _Refused(
                f"cannot use the database {path}: the folder {path.parent} does not exist"
            )


def _read_only_engine(url: str) -> sa.Engine:
    """An engine that reads ``url`` and can change nothing there, not even create it."""
    import sqlalchemy as sa
    from sqlalchemy.engine import make_url

    from crmkit.adapters.sql.engine import create_engine

    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return create_engine(url)
    path = parsed.database or ""
    if path in ("", ":memory:"):
        return sa.create_engine(url)  # a private, empty database: nothing to create
    if Path(path).is_dir():
        raise _Refused(f"{path} is a folder, not a SQLite database file")
    if not Path(path).is_file():
        raise _Refused(
            f"no database at {path}: `crmkit db current` reads and never creates one "
            "(give --url, set CRMKIT_DATABASE_URL, or run `crmkit db upgrade` to create it)"
        )
    # SQLite's URI form opens the file read-only (crmkit's engine would also switch it
    # to WAL, a write). Reading a WAL database read-only still leaves -shm and -wal
    # files behind, which a read-only connection cannot remove; without a -wal file
    # no connection has the database open, so it is read as immutable, which needs
    # neither. With one, a writer may be at work: read through its WAL as usual.
    resolved = Path(path).resolve()
    mode = "mode=ro" if Path(f"{resolved}-wal").exists() else "mode=ro&immutable=1"
    return sa.create_engine(f"sqlite:///file:{quote(str(resolved))}?{mode}&uri=true")


def _db(args: argparse.Namespace) -> int:
    from crmkit.adapters.sql.engine import create_engine
    from crmkit.adapters.sql.migrate import current_revisions, head_revisions, upgrade

    url = _url(args.url or os.environ.get("CRMKIT_DATABASE_URL", _DEFAULT_DB))
    try:
        if args.action == "upgrade":
            _require_folder(url)
            engine = create_engine(url)
        else:
            engine = _read_only_engine(url)
    except _opening_errors() as error:
        _refuse(url, error)
    try:
        if args.action == "upgrade":
            upgrade(engine)
            revisions = ", ".join(sorted(current_revisions(engine)))
            print(f"{_shown(url)}: upgraded to {revisions}")
        else:
            current = sorted(current_revisions(engine))
            heads = sorted(head_revisions())
            state = "up to date" if current == heads else f"behind (heads: {', '.join(heads)})"
            print(f"{_shown(url)}: at {', '.join(current) or 'nothing'} — {state}")
    except _opening_errors() as error:
        _refuse(url, error)
    finally:
        engine.dispose()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``crmkit`` console script.

    Returns:
        0 on success, 2 when the command line is wrong or the database cannot be used
        (one line on standard error says why; passwords are never printed).
    """
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
    db.add_argument(
        "--url",
        help="database URL or SQLite path (default: $CRMKIT_DATABASE_URL, else ./crmkit.sqlite;"
        " `current` never creates it)",
    )
    db.set_defaults(handler=_db)

    args = parser.parse_args(argv)
    try:
        return int(args.handler(args))
    except _Refused as refused:
        print(f"crmkit: {refused}", file=sys.stderr)
        return _EXIT_REFUSED


if __name__ == "__main__":
    sys.exit(main())
