from typing import Any

from django.core.management.base import BaseCommand, CommandError

from trefpunt.ledger.models import JournalEntry, LedgerAccount, Posting
from trefpunt.ledger.selectors import ledger_verify


class Command(BaseCommand):
    help = "Verify the whole ledger: zero-sum entries, balances equal to postings."

    def handle(self, *args: Any, **options: Any) -> None:
        problems = ledger_verify()
        counts = (
            f"{LedgerAccount.objects.count()} accounts, "
            f"{JournalEntry.objects.count()} entries, {Posting.objects.count()} postings"
        )
        if problems:
            for line in problems:
                self.stderr.write(line)
            raise CommandError(f"ledger check FAILED: {len(problems)} problem(s) in {counts}")
        self.stdout.write(f"ledger check passed: {counts}")
