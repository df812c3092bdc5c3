"""``python -m bench [--quick] [--json] [--load]``: the benchmarks of the issue.

Without ``--json`` a table is printed; with it, exactly one JSON object goes to stdout.
Progress always goes to stderr. The exit status is 1 when a section failed (its keys
are then null and it carries an ``error``), 2 for bad arguments or no data.
"""

from __future__ import annotations

import os

# Serving is timed as the app serves (``make run``): one BLAS thread per request. Set
# before numpy loads; an explicit OPENBLAS_NUM_THREADS wins.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

from bench.runner import SECTIONS, BenchError, Options, run
from recsys.errors import exit_on_known_errors


def _sections(text: str) -> tuple[str, ...]:
    chosen = tuple(part.strip() for part in text.split(",") if part.strip())
    unknown = [s for s in chosen if s not in SECTIONS]
    if unknown or not chosen:
        named = ", ".join(unknown) or "(none)"
        raise argparse.ArgumentTypeError(
            f"unknown section(s) {named}; choose from {', '.join(SECTIONS)}"
        )
    return chosen


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help="shrink every part (a test runs this in under a minute)",
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument(
        "--load", action="store_true", help="run only the load test (concurrent browser sessions)"
    )
    parser.add_argument(
        "--only",
        type=_sections,
        default=None,
        metavar="A,B",
        help=f"run only these sections: {', '.join(SECTIONS)}",
    )
    parser.add_argument(
        "--data",
        type=Path,
        default=None,
        help="MovieLens folder or .zip (default: RECSYS_DATA, then data/)",
    )
    parser.add_argument(
        "--artifacts",
        type=Path,
        default=None,
        help="serve this artifacts folder's bundle instead of training one",
    )
    parser.add_argument(
        "--app",
        type=Path,
        default=Path("dashboard.py"),
        help="the Streamlit entry point (default: dashboard.py)",
    )
    parser.add_argument(
        "--scale-data",
        type=Path,
        default=None,
        help="measure scale on this MovieLens-format folder instead of "
        "writing synthetic ml-25m-size data",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    sections = ("load",) if args.load else (args.only or SECTIONS)
    options = Options(
        quick=args.quick,
        sections=sections,
        data=args.data,
        artifacts=args.artifacts,
        app=args.app,
        scale_data=args.scale_data,
    )

    def run_and_print() -> int:
        results, ok = run(options)
        if args.json:
            print(json.dumps(results, indent=1))
        else:
            from bench.report import table

            print(table(results))
        return 0 if ok else 1

    # One line and exit 2 for bad input, as the CLI does.
    return exit_on_known_errors(run_and_print, also=(BenchError,))


if __name__ == "__main__":
    sys.exit(main())
