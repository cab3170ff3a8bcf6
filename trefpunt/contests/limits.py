"""Every limit of a contest and its entries, defined once.

Models take their field lengths from here, the services check against it, and forms, API
schemas and templates read it (templates through ``{% contest_limits as limits %}``), so a
limit changes in one place. Amounts are integer cents.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Final

# --- the brief ---------------------------------------------------------------------------
TITLE_MAX: Final = 120
SUMMARY_MAX: Final = 280
DESCRIPTION_MAX: Final = 20_000
NDA_MAX: Final = 10_000

PRIZES_MAX: Final = 3
PRIZE_MIN_CENTS: Final = 100
PRIZE_MAX_CENTS: Final = 10_000_000

FINALISTS_MAX: Final = 10
FINALISTS_DEFAULT: Final = 5
JUDGING_DAYS_MIN: Final = 1
JUDGING_DAYS_MAX: Final = 30
JUDGING_DAYS_DEFAULT: Final = 7
ENTRIES_PER_ENTRANT_MAX: Final = 20
ENTRIES_PER_ENTRANT_DEFAULT: Final = 3

DEADLINE_MIN_AHEAD: Final = timedelta(hours=1)
DEADLINE_MAX_DAYS: Final = 90
DEADLINE_MAX_AHEAD: Final = timedelta(days=DEADLINE_MAX_DAYS)

ATTACHMENTS_MAX: Final = 10

# --- entries -----------------------------------------------------------------------------
ENTRY_TITLE_MAX: Final = 120
ENTRY_DESCRIPTION_MAX: Final = 4_000
FILES_PER_VERSION_MAX: Final = 5
# A version note, a handover note, the client's private note and their feedback.
NOTE_MAX: Final = 2_000
RATING_MIN: Final = 1
RATING_MAX: Final = 5

# A decline and a report must say why; both are shown to people who act on them.
REASON_MIN: Final = 10
REASON_MAX: Final = 1_000

# --- judging and handover ----------------------------------------------------------------
# The client may close entries before the deadline once this many entries are in.
EARLY_CLOSE_MIN_ENTRIES: Final = 5
# A delivered handover the client leaves unanswered confirms itself after this long.
AUTO_CONFIRM_DAYS: Final = 7
AUTO_CONFIRM_AFTER: Final = timedelta(days=AUTO_CONFIRM_DAYS)

# --- lists -------------------------------------------------------------------------------
ENDS_SOON_DAYS: Final = 3
ENDS_SOON: Final = timedelta(days=ENDS_SOON_DAYS)
