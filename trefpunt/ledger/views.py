"""Wallet pages: thin views over the ledger's selectors and services."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from trefpunt.core.exceptions import ApplicationError, Conflict, NotFound, ValidationFailed
from trefpunt.core.forms import form_errors_apply
from trefpunt.core.money import format_cents
from trefpunt.core.types import AuthedRequest

from .forms import DepositForm, PayoutFailForm, PayoutForm
from .models import Deposit, EntryKind, LedgerAccount, Payout
from .references import references_describe
from .selectors import (
    deposit_for_user,
    organisation_for_wallet_admin,
    payout_for_staff,
    payouts_pending,
    payouts_recently_handled,
    wallet_escrows,
    wallet_lines_pages,
    wallet_payouts,
    wallet_summary,
)
from .services import (
    deposit_create,
    payout_mark_failed,
    payout_mark_paid,
    payout_request,
    return_path_clean,
    wallet_for_organisation,
    wallet_for_user,
)

if TYPE_CHECKING:
    from trefpunt.accounts.models import Organisation

HISTORY_PAGE_SIZE = 25
STAFF_PAGE_SIZE = 25


def _wallet_target(
    request: AuthedRequest, slug: str | None
) -> tuple[LedgerAccount, Organisation | None, str]:
    """The wallet a form acts on: the user's own, or (``org=<slug>``) an organisation's the
    user owns or administers; anyone else's is a 404. Also returns the wallet page's URL."""
    if not slug:
        return wallet_for_user(user=request.user), None, reverse("ledger:wallet")
    try:
        organisation = organisation_for_wallet_admin(slug=slug, user=request.user)
    except NotFound:
        raise Http404 from None
    wallet = wallet_for_organisation(organisation=organisation)
    return wallet, organisation, reverse("ledger:org_wallet", kwargs={"slug": organisation.slug})


def _wallet_page(
    request: AuthedRequest, wallet: LedgerAccount, organisation: Organisation | None
) -> HttpResponse:
    paginator = wallet_lines_pages(wallet=wallet, per_page=HISTORY_PAGE_SIZE)
    history = paginator.get_page(request.GET.get("page"))
    escrows = list(wallet_escrows(wallet=wallet))
    labels = references_describe(
        [line["reference"] for line in history] + [escrow.reference for escrow in escrows]
    )
    for line in history:
        line["label"] = labels.get(line["reference"])
        line["kind"] = EntryKind(line["entry__kind"]).label
    for escrow in escrows:
        escrow.reference_label = labels.get(escrow.reference)  # type: ignore[attr-defined]
    context: dict[str, Any] = {
        "wallet": wallet,
        "organisation": organisation,
        "summary": wallet_summary(wallet=wallet),
        "escrows": escrows,
        "pending_payouts": wallet_payouts(wallet=wallet, status=Payout.Status.REQUESTED),
        "history": history,
        "org_query": f"?org={organisation.slug}" if organisation else "",
    }
    return render(request, "ledger/wallet.html", context)


@login_required
def wallet_view(request: AuthedRequest) -> HttpResponse:
    return _wallet_page(request, wallet_for_user(user=request.user), None)


@login_required
def org_wallet_view(request: AuthedRequest, slug: str) -> HttpResponse:
    wallet, organisation, _url = _wallet_target(request, slug)
    return _wallet_page(request, wallet, organisation)


@login_required
@require_http_methods(["GET", "POST"])
def deposit_create_view(request: AuthedRequest) -> HttpResponse:
    """Start a deposit and send the user to the provider's checkout.

    ``?org=<slug>`` deposits into an organisation's wallet; ``?amount=12,50``
    prefills the amount; ``?next=/path/`` is where the "continue" button of the
    return page leads (a contest sends the client back to publish).
    """
    source = request.POST if request.method == "POST" else request.GET
    wallet, organisation, wallet_url = _wallet_target(request, source.get("org"))
    if request.method == "POST":
        form = DepositForm(request.POST)
        if form.is_valid():
            try:
                deposit = deposit_create(
                    wallet=wallet,
                    user=request.user,
                    amount=form.cleaned_data["amount"],
                    return_path=return_path_clean(form.cleaned_data["return_path"]),
                    idempotency_key=form.idempotency_key("deposit"),
                )
            except ApplicationError as exc:
                form_errors_apply(form, exc)
            else:
                if deposit.checkout_url and deposit.status == deposit.Status.PENDING:
                    return redirect(deposit.checkout_url)
                return redirect("ledger:deposit_return", public_id=deposit.public_id)
    else:
        form = DepositForm(
            initial={
                "org": organisation.slug if organisation else "",
                "amount": (request.GET.get("amount") or "")[:20],
                "return_path": return_path_clean(request.GET.get("next", "")),
            }
        )
    return render(
        request,
        "ledger/deposit_form.html",
        {
            "form": form,
            "organisation": organisation,
            "wallet_url": wallet_url,
            "summary": wallet_summary(wallet=wallet),
        },
        status=422 if form.errors else 200,
    )


def _deposit_retry_url(deposit: Deposit, organisation: Organisation | None) -> str:
    """The deposit form prefilled like ``deposit`` (after a cancelled or failed payment)."""
    query = {"amount": f"{deposit.amount // 100},{deposit.amount % 100:02d}"}
    if organisation is not None:
        query["org"] = organisation.slug
    if deposit.return_path:
        query["next"] = deposit.return_path
    return f"{reverse('ledger:deposit_create')}?{urlencode(query)}"


@login_required
def deposit_return_view(request: AuthedRequest, public_id: str) -> HttpResponse:
    """Where the provider sends the user back: paid, cancelled or still waiting."""
    try:
        deposit = deposit_for_user(public_id=public_id, user=request.user)
    except NotFound:
        raise Http404 from None
    organisation = deposit.wallet.organisation
    if organisation is not None:
        wallet_url = reverse("ledger:org_wallet", kwargs={"slug": organisation.slug})
    else:
        wallet_url = reverse("ledger:wallet")
    return render(
        request,
        "ledger/deposit_return.html",
        {
            "deposit": deposit,
            "organisation": organisation,
            "wallet_url": wallet_url,
            "continue_url": return_path_clean(deposit.return_path) or wallet_url,
            "retry_url": _deposit_retry_url(deposit, organisation),
            "balance": wallet_summary(wallet=deposit.wallet).balance,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def payout_create_view(request: AuthedRequest) -> HttpResponse:
    source = request.POST if request.method == "POST" else request.GET
    wallet, organisation, wallet_url = _wallet_target(request, source.get("org"))
    if request.method == "POST":
        form = PayoutForm(request.POST)
        if form.is_valid():
            try:
                payout = payout_request(
                    wallet=wallet,
                    user=request.user,
                    amount=form.cleaned_data["amount"],
                    iban=form.cleaned_data["iban"],
                    account_holder=form.cleaned_data["account_holder"],
                    idempotency_key=form.idempotency_key("payout"),
                )
            except NotFound:
                raise Http404 from None
            except ApplicationError as exc:
                form_errors_apply(form, exc)
            else:
                messages.success(
                    request,
                    _(
                        "Your payout of %(amount)s is requested. It usually reaches your "
                        "bank within two working days."
                    )
                    % {"amount": format_cents(payout.amount, payout.currency)},
                )
                return redirect(wallet_url)
    else:
        form = PayoutForm(initial={"org": organisation.slug if organisation else ""})
    return render(
        request,
        "ledger/payout_form.html",
        {
            "form": form,
            "organisation": organisation,
            "wallet_url": wallet_url,
            "summary": wallet_summary(wallet=wallet),
        },
        status=422 if form.errors else 200,
    )


# --- staff --------------------------------------------------------------------------


def _staff_only(request: AuthedRequest) -> None:
    if not (request.user.is_authenticated and request.user.is_staff):
        raise Http404


def _staff_queue(request: AuthedRequest, *, status: int = 200) -> HttpResponse:
    paginator = Paginator(payouts_pending(), STAFF_PAGE_SIZE)
    return render(
        request,
        "ledger/staff_payouts.html",
        {
            "pending": paginator.get_page(request.GET.get("page")),
            "handled": payouts_recently_handled(),
        },
        status=status,
    )


def staff_payouts_view(request: AuthedRequest) -> HttpResponse:
    _staff_only(request)
    return _staff_queue(request)


@require_POST
def payout_paid_view(request: AuthedRequest, pk: int) -> HttpResponse:
    _staff_only(request)
    try:
        payout = payout_mark_paid(payout_id=pk, staff=request.user)
    except NotFound:
        raise Http404 from None
    except Conflict as exc:
        messages.error(request, exc.message)
        return _staff_queue(request, status=409)
    messages.success(
        request,
        _("Payout #%(id)s of %(amount)s is marked as paid.")
        % {"id": payout.pk, "amount": format_cents(payout.amount, payout.currency)},
    )
    return redirect("ledger:staff_payouts")


@require_http_methods(["GET", "POST"])
def payout_failed_view(request: AuthedRequest, pk: int) -> HttpResponse:
    """Ask for the reason, then record the failure; the money goes back to the wallet."""
    _staff_only(request)
    try:
        payout = payout_for_staff(payout_id=pk, user=request.user)
    except NotFound:
        raise Http404 from None
    status = 200
    if request.method == "POST":
        form = PayoutFailForm(request.POST)
        if form.is_valid():
            try:
                payout_mark_failed(
                    payout_id=payout.pk, staff=request.user, reason=form.cleaned_data["reason"]
                )
            except ValidationFailed as exc:
                form_errors_apply(form, exc)
            except Conflict as exc:
                form.add_error(None, exc.message)
                status = 409
            else:
                messages.success(
                    request,
                    _("Payout #%(id)s is marked as failed; %(amount)s went back to the wallet.")
                    % {"id": payout.pk, "amount": format_cents(payout.amount, payout.currency)},
                )
                return redirect("ledger:staff_payouts")
        if form.errors and status == 200:
            status = 422
    else:
        form = PayoutFailForm()
    return render(
        request, "ledger/payout_failed.html", {"payout": payout, "form": form}, status=status
    )
