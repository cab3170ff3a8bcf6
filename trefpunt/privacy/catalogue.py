"""The platform's personal data, per model and user field (see ``registry``), and the
money that must be settled before an account can go. Each mode's models are listed in its
own block; a mode landing later registers its own from its ``AppConfig.ready``."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from .registry import DELETE, KEEP, PersonalData, open_money_check_register, personal_data_register


def _payouts_anonymise(rows: QuerySet[Any]) -> None:
    """The bookkeeping keeps amount and date; the bank account shows only its country and
    last four characters, the holder's name goes."""
    for payout in rows.only("pk", "iban"):
        iban = payout.iban
        masked = f"{iban[:2]}**{iban[-4:]}" if len(iban) > 6 else "****"
        type(payout)._default_manager.filter(pk=payout.pk).update(
            iban=masked, account_holder="former member"
        )


def _webhooks_own(rows: QuerySet[Any]) -> None:
    """Personal endpoints go; an organisation's stay with the organisation."""
    rows.filter(organisation__isnull=True).delete()


P = PersonalData
personal_data_register(
    # --- accounts (the account and profile are anonymised by the deletion service itself)
    P("accounts.User", "pk", secret=["password"], erase=KEEP),
    P("accounts.Profile", "user", files=["avatar"], erase=KEEP),
    P("accounts.PortfolioItem", "owner", erase=DELETE),
    P("accounts.PortfolioImage", "item__owner", files=["image"], erase=DELETE),
    P("accounts.Organisation", "created_by", erase=KEEP, why="the organisation's own"),
    P("accounts.Membership", "user", erase=DELETE),
    P("accounts.Invitation", "invited_by", erase=KEEP, why="the organisation's record"),
    P("accounts.Invitation", "accepted_by", erase=KEEP),
    P("accounts.ApiToken", "user", secret=["token_hash"], erase=DELETE),
    P("account.EmailAddress", "user", erase=DELETE),
    P("mfa.Authenticator", "user", secret=["data"], erase=DELETE),
    P("admin.LogEntry", "user", export=False, erase=KEEP, why="staff's own action log"),
    P("core.Event", "actor", erase=KEEP, why="the trail of others' work"),
    # --- ledger: bookkeeping is kept by law
    P("ledger.LedgerAccount", "user", erase=KEEP),
    P("ledger.JournalEntry", "created_by", erase=KEEP),
    P("ledger.Deposit", "created_by", erase=KEEP),
    P("ledger.Payout", "requested_by", erase=_payouts_anonymise),
    P("ledger.Payout", "handled_by", export=False, erase=KEEP, why="staff's action"),
    # --- contests: public work stays, attributed to a former member
    P("contests.Contest", "created_by", erase=KEEP),
    P("contests.ContestAttachment", "contest__created_by", files=["file"], erase=KEEP),
    P("contests.ContestInvitation", "user", erase=KEEP),
    P("contests.ContestInvitation", "invited_by", erase=KEEP),
    P("contests.Entry", "entrant", erase=KEEP),
    P("contests.Entry", "decline_reviewed_by", export=False, erase=KEEP, why="staff"),
    P("contests.EntryFile", "version__entry__entrant", files=["file"], erase=KEEP),
    P("contests.EntryFlag", "reported_by", erase=KEEP, why="moderation record"),
    P("contests.EntryFlag", "dismissed_by", export=False, erase=KEEP, why="staff"),
    P("contests.Payment", "recipient", erase=KEEP),
    P("contests.Handover", "confirmed_by", erase=KEEP),
    P("contests.HandoverFile", "handover__entry__entrant", files=["file"], erase=KEEP),
    P("contests.RightsTransfer", "creator", erase=KEEP),
    P("contests.RightsTransfer", "recipient_user", erase=KEEP),
    # --- microtasks
    P("microtasks.Batch", "owner", erase=KEEP),
    P("microtasks.Lease", "worker", erase=KEEP),
    P("microtasks.Answer", "worker", erase=KEEP),
    P("microtasks.Answer", "reviewed_by", export=False, erase=KEEP, why="the client's review"),
    P("microtasks.Answer", "appeal_decided_by", export=False, erase=KEEP, why="staff"),
    P("microtasks.BatchWorker", "worker", erase=KEEP),
    P("microtasks.WorkerQuality", "worker", erase=KEEP),
    P("microtasks.QualificationAttempt", "worker", erase=KEEP, why="the worker's record"),
    # --- idea calls
    P("ideas.IdeaCall", "created_by", files=["cover"], erase=KEEP),
    P("ideas.CallInvitation", "user", erase=KEEP),
    P("ideas.CallInvitation", "invited_by", erase=KEEP),
    P("ideas.Idea", "author", erase=KEEP),
    P("ideas.IdeaAuthor", "user", erase=KEEP),
    P("ideas.IdeaAttachment", "idea__author", files=["file"], erase=KEEP),
    P("ideas.IdeaUpdate", "author", erase=KEEP),
    P("ideas.Participant", "user", erase=KEEP),
    P("ideas.Vote", "voter", erase=KEEP, why="votes stay counted"),
    P("ideas.Comment", "author", erase=KEEP),
    P("ideas.Report", "reporter", erase=KEEP, why="moderation record"),
    P("ideas.Follow", "user", erase=DELETE),
    P("ideas.StageChange", "actor", erase=KEEP),
    P("ideas.RewardPayment", "recipient", erase=KEEP),
    # --- community
    P("community.Notification", "user", erase=DELETE),
    P("community.NotificationSetting", "user", erase=DELETE),
    P("community.Thread", "created_by", erase=KEEP),
    P("community.ThreadMember", "user", erase=KEEP, why="the other side keeps the thread"),
    P("community.Message", "author", erase=KEEP, why="the other side keeps the thread"),
    P("community.MessageAttachment", "message__author", files=["file"], erase=KEEP),
    # --- discovery: what the person lets the platform show (their own choice, not others')
    P("discovery.ProfileListing", "user", erase=DELETE),
    # --- moderation: a record of what happened, kept for appeals and repeat offenders
    P("moderation.Report", "reporter", erase=KEEP, why="moderation record"),
    P("moderation.Report", "author", erase=KEEP, why="moderation record"),
    P("moderation.Report", "resolved_by", export=False, erase=KEEP, why="staff"),
    P("moderation.Decision", "author", erase=KEEP, why="moderation record"),
    P("moderation.Decision", "staff", export=False, erase=KEEP, why="staff"),
    P("moderation.Decision", "appeal_decided_by", export=False, erase=KEEP, why="staff"),
    P("moderation.Sanction", "user", erase=KEEP, why="a ban must outlive the account"),
    P("moderation.Sanction", "staff", export=False, erase=KEEP, why="staff"),
    P("moderation.Sanction", "lifted_by", export=False, erase=KEEP, why="staff"),
    P("moderation.AuditEntry", "actor", export=False, erase=KEEP, why="append-only audit log"),
    # --- webhooks
    P("webhooks.WebhookEndpoint", "user", secret=["secret"], erase=_webhooks_own),
    P("webhooks.WebhookDelivery", "requested_by", export=False, erase=KEEP),
)


@open_money_check_register
def _ledger_open(user: Any) -> list[str]:
    from trefpunt.ledger.models import AccountKind, Deposit, LedgerAccount, Payout

    problems = []
    wallets = LedgerAccount.objects.filter(user=user, kind=AccountKind.WALLET)
    if wallets.filter(balance__gt=0).exists():
        problems.append(_("Your wallet still holds money: request a payout of it first."))
    if Payout.objects.filter(requested_by=user, status=Payout.Status.REQUESTED).exists():
        problems.append(_("A payout you requested has not been sent yet."))
    if Deposit.objects.filter(created_by=user, status=Deposit.Status.PENDING).exists():
        problems.append(_("A deposit of yours is still waiting for payment: finish or cancel it."))
    if LedgerAccount.objects.filter(funder__in=wallets, balance__gt=0).exists():
        problems.append(
            _("Money of yours is in escrow for running work: finish or cancel that work first.")
        )
    return problems


@open_money_check_register
def _work_open(user: Any) -> list[str]:
    from trefpunt.contests.models import Contest, Entry
    from trefpunt.microtasks.models import Answer

    problems = []
    if Entry.objects.filter(
        entrant=user,
        status__in=[Entry.Status.SUBMITTED, Entry.Status.FINALIST],
        contest__status__in=[Contest.Status.OPEN, Contest.Status.JUDGING],
    ).exists():
        problems.append(
            _("You have entries in contests still being judged: withdraw them or wait.")
        )
    if Answer.objects.filter(
        worker=user, status__in=[Answer.Status.PENDING, Answer.Status.APPEALED]
    ).exists():
        problems.append(_("Microtask answers of yours are still waiting for review or appeal."))
    return problems
