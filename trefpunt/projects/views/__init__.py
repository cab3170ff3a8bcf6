"""Project pages."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from trefpunt.core.web import not_found_as_404

from .. import selectors


@require_GET
def job_list_view(request: HttpRequest) -> HttpResponse:
    jobs = list(selectors.job_list_for_user(user=request.user)[:50])
    return render(request, "projects/list.html", {"jobs": jobs})


@require_GET
@not_found_as_404
def job_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    access = selectors.job_get_for_user(job_id=pk, user=request.user)
    return render(request, "projects/job.html", {"access": access, "job": access.job})


@require_GET
@not_found_as_404
def proposal_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    access = selectors.proposal_get_for_user(proposal_id=pk, user=request.user)
    return render(
        request, "projects/proposal.html", {"access": access, "proposal": access.proposal}
    )


@require_GET
@not_found_as_404
def contract_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    access = selectors.contract_get_for_user(contract_id=pk, user=request.user)
    return render(
        request, "projects/contract.html", {"access": access, "contract": access.contract}
    )
