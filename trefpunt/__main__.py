"""``trefpunt`` — the operator's command: every Django management command, e.g.
``trefpunt migrate``, ``trefpunt demo``, ``trefpunt ledger_check``, ``trefpunt createuser``."""

import os
import sys


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "trefpunt.settings.base")
    from django.core.management import execute_from_command_line

    argv = sys.argv[:]
    argv[0] = "trefpunt"
    execute_from_command_line(argv)


if __name__ == "__main__":
    main()
