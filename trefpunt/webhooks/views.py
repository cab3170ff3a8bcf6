"""Webhooks in the settings: register an endpoint (its secret shown once), read each
endpoint's delivery log with every attempt, redeliver from it, enable a disabled endpoint.
The same services and selectors as ``/api/v1/webhooks``; someone else's endpoint is 404."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from trefpunt.core.exceptions import ApplicationError, NotFound
from trefpunt.core.forms import form_errors_apply
from trefpunt.core.types import AuthedRequest

from . import selectors, services
from .events import webhook_event_kinds

PAGE_SIZE = 20


class EndpointForm(forms.Form):
    url = forms.URLField(
        label=gettext_lazy("Address (https://…)"), max_length=500, assume_scheme="https"
    )
    description = forms.CharField(label=gettext_lazy("Description"), max_length=200, required=False)
    events = forms.MultipleChoiceField(
        label=gettext_lazy("Events"), widget=forms.CheckboxSelectMultiple, choices=()
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        events = self.fields["events"]
        assert isinstance(events, forms.MultipleChoiceField)
        events.choices = [(k.key, f"{k.key} — {k.label}") for k in webhook_event_kinds()]


@login_required
@require_http_methods(["GET", "POST"])
def webhook_settings_view(request: AuthedRequest) -> HttpResponse:
    created = None
    if request.method == "POST":
        form = EndpointForm(request.POST)
        if form.is_valid():
            try:
                created = services.endpoint_create(
                    user=request.user,
                    url=form.cleaned_data["url"],
                    events=form.cleaned_data["events"],
                    description=form.cleaned_data["description"],
                )
            except ApplicationError as exc:
                form_errors_apply(form, exc)
            else:
                form = EndpointForm()
    else:
        form = EndpointForm()
    context = {
        "form": form,
        "endpoints": selectors.endpoints_for_user(user=request.user),
        "created": created,
    }
    return render(request, "webhooks/settings.html", context, status=201 if created else 200)


def _endpoint(request: AuthedRequest, public_id: str) -> object:
    try:
        return selectors.endpoint_for_user(public_id=public_id, user=request.user)
    except NotFound:
        raise Http404 from None


@login_required
@require_http_methods(["GET"])
def webhook_endpoint_view(request: AuthedRequest, public_id: str) -> HttpResponse:
    """The delivery log, newest first, with every attempt (constant queries per page)."""
    endpoint = _endpoint(request, public_id)
    deliveries = selectors.deliveries_for_endpoint(endpoint=endpoint)  # type: ignore[arg-type]
    page = Paginator(deliveries.select_related("redelivery_of"), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(request, "webhooks/endpoint.html", {"endpoint": endpoint, "page": page})


@login_required
@require_POST
def webhook_redeliver_view(request: AuthedRequest, public_id: str) -> HttpResponse:
    try:
        delivery = selectors.delivery_for_user(public_id=public_id, user=request.user)
    except NotFound:
        raise Http404 from None
    try:
        services.delivery_redeliver(delivery=delivery, user=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The event is queued to be sent again."))
    return redirect("webhooks:endpoint", public_id=delivery.endpoint.public_id)


@login_required
@require_POST
def webhook_enable_view(request: AuthedRequest, public_id: str) -> HttpResponse:
    endpoint = _endpoint(request, public_id)
    services.endpoint_enable(endpoint=endpoint)  # type: ignore[arg-type]
    messages.success(request, _("The endpoint is enabled again."))
    return redirect("webhooks:endpoint", public_id=public_id)


@login_required
@require_POST
def webhook_delete_view(request: AuthedRequest, public_id: str) -> HttpResponse:
    endpoint = _endpoint(request, public_id)
    services.endpoint_delete(endpoint=endpoint)  # type: ignore[arg-type]
    messages.success(request, _("The endpoint is removed."))
    return redirect("webhooks:settings")
