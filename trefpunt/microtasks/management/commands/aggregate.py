"""``manage.py aggregate ANSWERS.csv [...]``: the ``trefpunt aggregate`` CLI inside Django.

All parsing and error reporting live in :mod:`trefpunt.microtasks.aggregation.cli`, so the
command line and the management command cannot drift apart. ``run_from_argv`` hands the raw
arguments over untouched (Django's own parser would reject ``--method`` before a positional);
``handle`` serves ``call_command("aggregate", "answers.csv", "--method", "mv")``.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from trefpunt.microtasks.aggregation.cli import main


class Command(BaseCommand):
    help = "Aggregate a question,worker,answer CSV into question,answer,confidence (see --help)."

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("cli_args", nargs=argparse.REMAINDER)

    def run_from_argv(self, argv: list[str]) -> None:
        sys.exit(main(argv[2:], sys.stdout, sys.stderr))

    def handle(self, *args: Any, **options: Any) -> None:
        status = main([*args, *options["cli_args"]], self.stdout, self.stderr)
        if status:
            raise CommandError("aggregate failed", returncode=status)
