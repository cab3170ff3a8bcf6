"""The time rules of projects, in one place (days)."""

from __future__ import annotations

AUTO_APPROVE_DAYS = 14  # a delivery the client leaves unanswered is approved
REMINDER_DAYS = (7, 12)  # the client is reminded of an unanswered delivery
DISPUTE_AGREE_DAYS = 7  # the two sides agree a split, then staff decide
REVIEW_REVEAL_DAYS = 14  # reviews show when both are in, or this long after the end
MAX_MILESTONES = 20
MAX_AMOUNT_CENTS = 100_000_000  # € 1,000,000
