"""Mutation testing of crmkit's cores with mutmut, one core at a time (``make mutation``).

mutmut reads its settings from ``pyproject.toml`` in the directory it runs in and keeps
its state in ``mutants/`` there, so each core gets a work directory of its own under
``.mutation/<core>/``: links to ``src`` and ``tests``, and a ``pyproject.toml`` that names
the core's modules and the test files that exercise it. A core is therefore measured
against its own tests, not the whole suite, and cores can be run (and re-run) one by one.

Tests run on the memory backend only (``-k "not sqlite and not postgresql"``): the
modules mutated here are pure domain code and services, whose SQL twins are held to the
memory adapter by the storage contract and differential tests.

Usage::

    python tools/mutation.py                 # every core, then the score table
    python tools/mutation.py money machine   # some cores
    python tools/mutation.py --report        # the table of the last runs, nothing re-run
    python tools/mutation.py --survivors billing   # the surviving mutants of a core, as diffs

The score of a module counts killed mutants (and timeouts: a mutant that loops is caught)
over all mutants that are not listed in ``tools/mutation_equivalent.txt`` — mutants judged
equivalent to the original, each with the reason.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / ".mutation"
EQUIVALENT = ROOT / "tools" / "mutation_equivalent.txt"
BIN = Path(sys.executable).parent

# core -> (modules to mutate, test files that exercise them)
CORES: dict[str, tuple[list[str], list[str]]] = {
    "money": (
        [
            "src/crmkit/kernel/money.py",
            "src/crmkit/kernel/currency.py",
            "src/crmkit/kernel/decimals.py",
        ],
        ["tests/kernel/test_money.py", "tests/kernel/test_rates.py"],
    ),
    "machine": (
        ["src/crmkit/kernel/machine.py", "src/crmkit/kernel/guards.py"],
        ["tests/kernel/test_machine.py"],
    ),
    "permissions": (
        [
            "src/crmkit/rules/permissions/model/policy.py",
            "src/crmkit/rules/permissions/model/compile.py",
            "src/crmkit/rules/permissions/model/reach.py",
            "src/crmkit/rules/permissions/model/grants.py",
            "src/crmkit/rules/permissions/model/fields.py",
        ],
        # The evaluator's worked cases and the oracle; the service, conformance and
        # differential tests drive it through a whole Crm (seconds to minutes a mutant).
        ["tests/rules/permissions/test_grants.py", "tests/rules/permissions/test_oracle.py"],
    ),
    "numbering": (
        ["src/crmkit/rules/numbering/model.py", "src/crmkit/rules/numbering/services.py"],
        [
            "tests/rules/numbering/test_patterns.py",
            "tests/rules/numbering/test_numbering_services.py",
            "tests/rules/numbering/test_numbering_invariants.py",
        ],
    ),
    "approvals": (
        [
            "src/crmkit/rules/approvals/model/request.py",
            "src/crmkit/rules/approvals/model/trail.py",
        ],
        # Not the invariants state machine: 150 random walks per surviving mutant take
        # minutes; the unit tests of the request pin what it checks, one by one. Nor the
        # docs page's examples: mutmut copies tests/ but not docs/.
        [
            "tests/rules/approvals",
            "--deselect=tests/rules/approvals/test_approval_invariants.py::test_approval_invariants",
            "--deselect=tests/rules/approvals/test_approvals_docs.py",
        ],
    ),
    # The billing services and read models, against fast tests that drive them through
    # the public commands; the test_invariants state machine (minutes per mutant) is left
    # to the normal test run.
    "billing": (
        [
            "src/crmkit/billing/services/receipts.py",
            "src/crmkit/billing/services/allocation.py",
            "src/crmkit/billing/services/credit_balance.py",
            "src/crmkit/billing/queries.py",
        ],
        [
            "tests/billing/test_receipts.py",
            "tests/billing/test_refund_parts.py",
            "tests/billing/test_aging.py",
            "tests/billing/test_batch_saves.py",
            "tests/billing/test_record_checks.py",
            "tests/billing/test_expenses.py",
            "tests/billing/test_money_commands.py",
            "tests/billing/test_read_models.py",
        ],
    ),
    # The billing models, against the tests that drive them without the state machine.
    "billing_model": (
        ["src/crmkit/billing/model/receipts.py", "src/crmkit/billing/model/ledger.py"],
        [
            "tests/billing/test_receipts.py",
            "tests/billing/test_refund_parts.py",
            "tests/billing/test_ledger_tamper.py",
            "tests/billing/test_batch_saves.py",
        ],
    ),
    # The pool rules, against their pure tests and the services' tests; the hypothesis
    # state machine of test_pool_invariants is left out (minutes per surviving mutant).
    "customers_pool": (
        ["src/crmkit/customers/model/pool.py"],
        ["tests/customers/test_pool_model.py", "tests/customers/test_pool.py"],
    ),
    "customers_merge": (
        [
            "src/crmkit/customers/services/merge.py",
            "src/crmkit/customers/services/merge_parts.py",
        ],
        ["tests/customers/test_merge_details.py", "tests/customers/test_merge.py"],
    ),
}

PYTEST_ARGS = ["-p", "no:cacheprovider", "-p", "no:randomly", "-x", "-q"]
MEMORY_ONLY = ["-k", "not sqlite and not postgresql and not mariadb"]
COUNTED = {"killed", "timeout", "survived", "no tests", "suspicious", "segfault"}
KILLED = {"killed", "timeout", "segfault"}
_NAME = re.compile(r"^\s*(?P<name>\S+): (?P<status>.+)$")


def _toml_list(values: list[str]) -> str:
    return "[" + ", ".join(json.dumps(v) for v in values) + "]"


def prepare(core: str) -> Path:
    """The core's work directory, with its mutmut settings (earlier results are dropped)."""
    modules, tests = CORES[core]
    where = WORK / core
    shutil.rmtree(where, ignore_errors=True)
    where.mkdir(parents=True)
    for name in ("src", "tests"):
        (where / name).symlink_to(ROOT / name)
    (where / "pyproject.toml").write_text(
        "[tool.mutmut]\n"
        'source_paths = ["src"]\n'
        f"only_mutate = {_toml_list(modules)}\n"
        f"pytest_add_cli_args_test_selection = {_toml_list(tests + MEMORY_ONLY)}\n"
        f"pytest_add_cli_args = {_toml_list(PYTEST_ARGS)}\n"
        'also_copy = ["tests"]\n',
        encoding="utf-8",
    )
    return where


def run(core: str, children: int) -> None:
    """Run mutmut over one core and store its results in the work directory."""
    where = prepare(core)
    command = [str(BIN / "mutmut"), "run", "--max-children", str(children)]
    with open(where / "run.log", "w", encoding="utf-8") as log:
        subprocess.run(command, cwd=where, env=_ENV, stdout=log, stderr=subprocess.STDOUT)
    collect(core)


_ENV = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}


def collect(core: str) -> None:
    """Read the statuses of a core's mutants from mutmut into ``results.json``."""
    where = WORK / core
    results = subprocess.run(
        [str(BIN / "mutmut"), "results", "--all", "true"],
        cwd=where,
        env=_ENV,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    statuses = {}
    for line in results.splitlines():
        match = _NAME.match(line)
        if match:
            statuses[match["name"]] = match["status"].strip()
    (where / "results.json").write_text(json.dumps(statuses, indent=1), encoding="utf-8")


def equivalent() -> dict[str, str]:
    """Mutants judged equivalent: ``name  reason`` per line, ``#`` comments."""
    found: dict[str, str] = {}
    if EQUIVALENT.exists():
        for line in EQUIVALENT.read_text(encoding="utf-8").splitlines():
            line = line.split("#", 1)[0].strip()
            if line:
                name, _, why = line.partition(" ")
                found[name] = why.strip()
    return found


def module_of(mutant: str) -> str:
    """``crmkit.kernel.money.xǁMoneyǁ__add____mutmut_3`` -> ``crmkit.kernel.money``."""
    return re.split(r"\.x(?:ǁ|_)", mutant, maxsplit=1)[0]


def report(cores: list[str]) -> int:
    """Print the score per module; non-zero when a module is below 90 %."""
    skip = equivalent()
    rows = []
    below = 0
    # mutmut numbers mutants within a function: after the function changes, a listed name
    # can point at another mutant. One the tests kill was not equivalent: say so.
    stale: list[str] = []
    for core in cores:
        path = WORK / core / "results.json"
        if not path.exists():
            print(f"{core}: not run")
            continue
        statuses: dict[str, str] = json.loads(path.read_text(encoding="utf-8"))
        by_module: dict[str, Counter[str]] = defaultdict(Counter)
        for name, status in statuses.items():
            module = module_of(name)
            if name in skip and status in KILLED:
                stale.append(name)
                by_module[module]["killed"] += 1
            elif name in skip:
                by_module[module]["equivalent"] += 1
            elif status in COUNTED:
                by_module[module]["killed" if status in KILLED else status] += 1
            else:  # not checked yet (an interrupted run), or skipped
                by_module[module]["pending"] += 1
        for module, counts in sorted(by_module.items()):
            scored = sum(v for k, v in counts.items() if k not in ("equivalent", "pending"))
            score = 100.0 * counts["killed"] / scored if scored else 100.0
            below += score < 90
            rows.append(
                (
                    module,
                    scored + counts["equivalent"] + counts["pending"],
                    counts["pending"],
                    counts["equivalent"],
                    counts["killed"],
                    counts["survived"],
                    counts["no tests"],
                    score,
                )
            )
    print(
        f"{'module':44} {'mutants':>7} {'pending':>7} {'equiv':>5} {'killed':>6} {'surv':>5} "
        f"{'untested':>8} score"
    )
    for module, total, pending, equiv, killed, survived, untested, score in rows:
        print(
            f"{module:44} {total:7d} {pending:7d} {equiv:5d} {killed:6d} {survived:5d} "
            f"{untested:8d} {score:5.1f}%"
        )
    for name in stale:
        print(f"stale: {name} is listed as equivalent but the tests kill it; re-check the list")
    return 1 if below or stale else 0


def survivors(core: str) -> None:
    """Show each surviving, non-equivalent mutant of a core as a diff."""
    where = WORK / core
    statuses: dict[str, str] = json.loads((where / "results.json").read_text(encoding="utf-8"))
    skip = equivalent()
    for name, status in statuses.items():
        if status in ("survived", "no tests") and name not in skip:
            print(f"## {name} ({status})")
            shown = subprocess.run(
                [str(BIN / "mutmut"), "show", name], cwd=where, capture_output=True, text=True
            )
            print("\n".join(x for x in shown.stdout.splitlines() if x[:1] in "+-@"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cores", nargs="*", help=f"some of: {', '.join(CORES)} (default: all)")
    parser.add_argument("--report", action="store_true", help="only print the last scores")
    parser.add_argument(
        "--collect", action="store_true", help="re-read the results of runs made before"
    )
    parser.add_argument("--survivors", metavar="CORE", help="list a core's surviving mutants")
    parser.add_argument("--children", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    cores = args.cores or list(CORES)
    unknown = sorted(set(cores) - set(CORES))
    if unknown:
        parser.error(f"unknown core(s): {', '.join(unknown)}")
    if args.survivors:
        survivors(args.survivors)
        return 0
    if args.collect:
        for core in cores:
            collect(core)
    elif not args.report:
        for core in cores:
            print(f"mutation: {core} ...", flush=True)
            run(core, args.children)
    return report(cores)


if __name__ == "__main__":
    sys.exit(main())
