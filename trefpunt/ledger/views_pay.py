"""The sandbox provider's hosted checkout and the webhook endpoint every provider calls."""

from __future__ import annotations

import logging

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST

from trefpunt.core.exceptions import ApplicationError

from .models import Deposit
from .providers import PROVIDERS, WebhookRejected
from .providers.sandbox import sandbox_notification, sandbox_sign
from .selectors import deposit_for_user
from .services import webhook_receive

logger = logging.getLogger(__name__)
SANDBOX_ACTIONS = {"confirm": "paid", "cancel": "cancelled"}


@login_required
@require_http_methods(["GET", "POST"])
def sandbox_checkout_view(request: HttpRequest, public_id: str) -> HttpResponse:
    """Stands in for a provider's payment page. Confirming here does not book anything by
    itself: it produces the signed notification the provider would send, and hands it to the
    same ``webhook_receive`` path as an HTTP webhook."""
    try:
        deposit = deposit_for_user(public_id=public_id, user=request.user)  # type: ignore[arg-type]
    except ApplicationError:
        raise Http404 from None
    if deposit.provider != "sandbox":
        raise Http404
    if request.method == "POST" and deposit.status == Deposit.Status.PENDING:
        outcome = SANDBOX_ACTIONS.get(request.POST.get("action", ""))
        if outcome is None:
            return HttpResponseBadRequest(_("Choose Confirm payment or Cancel."))
        body = sandbox_notification(deposit, outcome)
        try:
            webhook_receive(provider="sandbox", body=body, headers=sandbox_sign(body))
        except ApplicationError as exc:
            logger.warning("sandbox checkout of deposit %s: %s", deposit.pk, exc)
        return redirect("ledger:deposit_return", public_id=deposit.public_id)
    if deposit.status != Deposit.Status.PENDING:
        return redirect("ledger:deposit_return", public_id=deposit.public_id)
    return render(request, "ledger/sandbox_checkout.html", {"deposit": deposit})


@csrf_exempt
@require_POST
def webhook_view(request: HttpRequest, provider: str) -> HttpResponse:
    """Provider notifications. Authentic ones are applied once; anything else changes nothing."""
    if provider not in PROVIDERS:
        raise Http404
    headers = {k: v for k, v in request.headers.items()}
    try:
        outcome, deposit = webhook_receive(provider=provider, body=request.body, headers=headers)
    except WebhookRejected as exc:
        logger.warning("rejected %s webhook: %s", provider, exc)
        return JsonResponse(
            {"error": {"code": "bad_signature", "message": str(exc), "fields": {}}}, status=400
        )
    except ApplicationError as exc:
        return JsonResponse(exc.as_dict(), status=exc.status)
    return JsonResponse({"status": outcome, "deposit": str(deposit.public_id)})
