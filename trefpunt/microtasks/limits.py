"""Every bound on what a batch and a review may hold, and the defaults of a new batch:
defined once, here, and read by the model, the services, the forms, the API schemas and
the templates.

The answer form's own bounds (fields, choices, text length) live with it in
``formspec.py``; the item display's in ``rendering.py``; the upload's in ``uploads.py``.
"""

from __future__ import annotations

TITLE_MIN_LENGTH = 3
TITLE_MAX_LENGTH = 200
INSTRUCTIONS_MAX_LENGTH = 20_000

# The reward per answer, in cents.
REWARD_MIN_CENTS = 1
REWARD_MAX_CENTS = 10_000

# Answers per item (redundancy): the minimum asked for, and the maximum adaptive
# redundancy may raise an uncertain item to (publishing funds the maximum).
ANSWERS_PER_ITEM_MAX = 20
DEFAULT_ANSWERS_PER_ITEM = 3

ESTIMATED_SECONDS_MIN = 1
ESTIMATED_SECONDS_MAX = 3600
DEFAULT_ESTIMATED_SECONDS = 30

# How long a worker holds an item (the lease).
LEASE_SECONDS_MIN = 60
LEASE_SECONDS_MAX = 4 * 3600
DEFAULT_LEASE_SECONDS = 600
# Task pages: items claimed and answered at once (Toloka's "task suites").
DEFAULT_PAGE_SIZE = 1
PAGE_SIZE_MAX = 50

ANSWERS_PER_WORKER_MAX = 1_000_000

# The confidence an item's combined answer must reach before it completes early.
CONFIDENCE_TARGET_MIN = 0.5
CONFIDENCE_TARGET_MAX = 1.0
DEFAULT_CONFIDENCE_TARGET = 0.95

# The share of test questions among the items a worker gets.
DEFAULT_GOLD_RATE = 0.1

# A rejection's reason, an appeal's message, a decision's note.
REASON_MIN_LENGTH = 3
REASON_MAX_LENGTH = 2000
