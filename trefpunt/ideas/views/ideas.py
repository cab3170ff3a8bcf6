"""Idea pages and actions: post (with similar ideas while typing), edit, updates, vote,
stage decisions, merge, follow, comments, reports and attachments."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from trefpunt.core.exceptions import ApplicationError, NotFound
from trefpunt.core.forms import form_errors_apply, form_errors_text
from trefpunt.core.types import AuthedRequest
from trefpunt.core.web import flash_error, not_found_as_404, post_action, redirect_back

from .. import selectors, services
from ..forms import (
    CommentForm,
    IdeaEditForm,
    IdeaForm,
    MergeForm,
    ReportForm,
    StageMoveForm,
    UpdateForm,
    VoteForm,
)
from ..models import CallTag, Idea, IdeaAttachment, Stage
from .calls import _detail_context
from .common import file_response, is_htmx


def _idea_context(request: HttpRequest, access: selectors.IdeaAccess) -> dict[str, Any]:
    idea = access.idea
    call_access = access.call
    stages = list(Stage.objects.filter(call=idea.call))
    others = (
        list(
            Idea.objects.filter(call=idea.call, status=Idea.Status.ACTIVE)
            .exclude(pk=idea.pk)
            .order_by("-score", "id")[:200]
        )
        if access.can_merge
        else []
    )
    similar = selectors.similar_ideas(
        call=idea.call, title=idea.title, description=idea.description, exclude=(idea.pk,)
    )
    return {
        "idea": idea,
        "call": idea.call,
        "access": access,
        "call_access": call_access,
        "votes": selectors.idea_votes(idea=idea),
        "my_points": _my_points(access),
        "points_left": selectors.points_left(access=call_access),
        "comments": selectors.idea_comments(access=access),
        "history": selectors.idea_stage_history(idea=idea),
        "improvements": selectors.idea_improvements(idea=idea),
        "credits": selectors.idea_credits(idea=idea),
        "merged_from": selectors.idea_merged_from(idea=idea),
        "updates": list(idea.updates.all()),
        "attachments": list(idea.attachments.all()),
        "tags": list(idea.tags.all()),
        "similar": similar,
        "payments": list(idea.payments.select_related("recipient__profile")),
        "following": services.is_following(user=access.user, idea=idea),
        "comment_form": CommentForm(),
        "update_form": UpdateForm(),
        "stage_form": StageMoveForm(stages=stages, current=idea.stage_id),
        "merge_form": MergeForm(ideas=others),
        "report_form": ReportForm(),
        "vote_form": VoteForm(),
    }


def _my_points(access: selectors.IdeaAccess) -> int:
    if access.user is None:
        return 0
    vote = access.idea.votes.filter(voter=access.user).first()
    return vote.points if vote else 0


@require_GET
@not_found_as_404
def idea_detail_view(request: HttpRequest, pk: int) -> HttpResponse:
    access = selectors.idea_get_for_user(idea_id=pk, user=request.user)
    return render(request, "ideas/idea.html", _idea_context(request, access))


# --- posting ------------------------------------------------------------------------------


@login_required
@require_POST
@not_found_as_404
def idea_create_view(request: AuthedRequest, pk: int) -> HttpResponse:
    """Post an idea. ``action=check`` (the button shown without JavaScript) only shows the
    similar ideas for what was typed, keeping the form filled in."""
    access = selectors.call_get_for_user(call_id=pk, user=request.user)
    tags = list(CallTag.objects.filter(call=access.call))
    form = IdeaForm(request.POST, request.FILES, tags=tags)
    similar: list[Any] = []
    if form.is_valid() and request.POST.get("action") != "check":
        data = form.cleaned_data
        try:
            idea = services.idea_submit(
                call_id=pk,
                user=request.user,
                title=data["title"],
                description=data["description"],
                tags=data.get("tags") or [],
                improves_id=data.get("improves"),
                files=data.get("files") or [],
            )
        except NotFound:
            raise
        except ApplicationError as exc:
            form_errors_apply(form, exc)
        else:
            messages.success(request, _("Your idea is in. Others can now vote and comment."))
            return redirect("ideas:idea", pk=idea.pk)
    if form.errors and not access.can_submit:
        # The form is not shown once the call takes no more ideas (the deadline passed
        # while the author was typing): say so, or the page would just come back.
        messages.error(request, _("This call no longer takes ideas."))
    if request.POST.get("action") == "check":
        form.errors.clear()
        similar = selectors.similar_ideas(
            call=access.call,
            title=request.POST.get("title", ""),
            description=request.POST.get("description", ""),
        )
    context = _detail_context(request, access)
    context.update({"idea_form": form, "similar": similar, "checked": True})
    return render(request, "ideas/call.html", context, status=422 if form.errors else 200)


@require_GET
@not_found_as_404
def similar_view(request: HttpRequest, pk: int) -> HttpResponse:
    """The similar-ideas box for what the author is typing (htmx, as they type)."""
    access = selectors.call_get_for_user(call_id=pk, user=request.user)
    title = request.GET.get("title", "")[:200]
    description = request.GET.get("description", "")[:3000]
    similar = (
        selectors.similar_ideas(call=access.call, title=title, description=description)
        if len(title) + len(description) >= 12
        else []
    )
    return render(
        request, "ideas/_similar.html", {"similar": similar, "call": access.call, "checked": True}
    )


@login_required
@require_http_methods(["GET", "POST"])
@not_found_as_404
def idea_edit_view(request: AuthedRequest, pk: int) -> HttpResponse:
    access = selectors.idea_get_for_user(idea_id=pk, user=request.user)
    if not access.is_author:
        raise Http404
    idea = access.idea
    tags = list(CallTag.objects.filter(call=idea.call))
    initial = {
        "title": idea.title,
        "description": idea.description,
        "tags": [t.slug for t in idea.tags.all()],
    }
    form = IdeaEditForm(request.POST or None, tags=tags, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.idea_edit(
                idea_id=pk,
                user=request.user,
                title=form.cleaned_data["title"],
                description=form.cleaned_data["description"],
                tags=form.cleaned_data.get("tags") or [],
            )
        except ApplicationError as exc:
            form_errors_apply(form, exc)
        else:
            messages.success(request, _("Idea saved."))
            return redirect("ideas:idea", pk=pk)
    return render(
        request,
        "ideas/idea_edit.html",
        {"form": form, "idea": idea, "access": access},
        status=422 if form.errors else 200,
    )


@login_required
@require_POST
def idea_update_view(request: AuthedRequest, pk: int) -> HttpResponse:
    form = UpdateForm(request.POST)
    text = form.cleaned_data["text"] if form.is_valid() else request.POST.get("text", "")
    return post_action(
        request,
        lambda: services.idea_update_add(idea_id=pk, user=request.user, text=text),
        _("Update added; your followers are told."),
        reverse("ideas:idea", kwargs={"pk": pk}),
    )


# --- votes ----------------------------------------------------------------------------------


@login_required
@require_POST
@not_found_as_404
def idea_vote_view(request: AuthedRequest, pk: int) -> HttpResponse:
    """Vote, change the points, or take the vote back (``action=unvote``). htmx gets the
    vote box back; without JavaScript the page reloads with a message."""
    form = VoteForm(request.POST)
    points = form.cleaned_data.get("points") if form.is_valid() else None
    error = None
    success = _("Your vote is saved.")
    try:
        if request.POST.get("action") == "unvote" or points == 0:
            had_vote = services.idea_unvote(idea_id=pk, user=request.user)
            success = (
                _("Your vote is taken back.") if had_vote else _("You had not voted for this idea.")
            )
        else:
            services.idea_vote(idea_id=pk, user=request.user, points=points)
    except NotFound:
        raise
    except ApplicationError as exc:
        # "Some fields are not valid" says nothing next to a vote button: show the
        # field's own message ("Give between 1 and 10 points.").
        details = [m for field_messages in exc.fields.values() for m in field_messages]
        error = " ".join(details) if details else exc.message
    if is_htmx(request):
        access = selectors.idea_get_for_user(idea_id=pk, user=request.user)
        idea = access.idea
        context = {
            "idea": idea,
            "access": access,
            "call": idea.call,
            "my_points": _my_points(access),
            "points_left": selectors.points_left(access=access.call),
            "vote_error": error,
        }
        return render(request, "ideas/_vote.html", context)
    if error:
        messages.error(request, error)
    else:
        messages.success(request, success)
    return redirect_back(request, reverse("ideas:idea", kwargs={"pk": pk}))


# --- decisions ------------------------------------------------------------------------------


@login_required
@require_POST
@not_found_as_404
def idea_stage_view(request: AuthedRequest, pk: int) -> HttpResponse:
    access = selectors.idea_get_for_user(idea_id=pk, user=request.user)
    stages = list(Stage.objects.filter(call=access.idea.call))
    # Every decision stage parses, the current one too: a second click on the same move
    # gets the service's "already in this stage", not "not one of the available choices".
    form = StageMoveForm(request.POST, stages=stages)
    if not form.is_valid():
        messages.error(request, form_errors_text(form))
        return redirect_back(request, reverse("ideas:idea", kwargs={"pk": pk}))
    return post_action(
        request,
        lambda: services.idea_stage_move(
            idea_id=pk,
            user=request.user,
            stage_id=form.cleaned_data["stage"],
            reason=form.cleaned_data["reason"],
        ),
        _("Stage changed; the author and followers see the reason."),
        reverse("ideas:idea", kwargs={"pk": pk}),
    )


@login_required
@require_POST
def idea_merge_view(request: AuthedRequest, pk: int) -> HttpResponse:
    try:
        into = int(request.POST.get("into", "0"))
    except ValueError:
        into = 0
    kept: list[Idea] = []

    def merge() -> None:
        kept.append(services.idea_merge(idea_id=pk, into_id=into, user=request.user))

    response = post_action(
        request,
        merge,
        _("Merged. Votes moved to the kept idea and both authors are credited."),
        reverse("ideas:idea", kwargs={"pk": pk}),
    )
    return redirect("ideas:idea", pk=kept[0].pk) if kept else response


@login_required
@require_POST
def idea_follow_view(request: AuthedRequest, pk: int) -> HttpResponse:
    follow = request.POST.get("follow") == "1"
    return post_action(
        request,
        lambda: services.follow_set(user=request.user, idea_id=pk, follow=follow),
        _("You follow this idea.") if follow else _("You no longer follow this idea."),
        reverse("ideas:idea", kwargs={"pk": pk}),
    )


# --- comments, reports ----------------------------------------------------------------------


@login_required
@require_POST
@not_found_as_404
def comment_create_view(request: AuthedRequest, pk: int) -> HttpResponse:
    form = CommentForm(request.POST)
    comment = None
    if form.is_valid():
        try:
            comment = services.comment_create(
                idea_id=pk,
                user=request.user,
                body=form.cleaned_data["body"],
                parent_id=form.cleaned_data.get("parent"),
            )
        except NotFound:
            raise
        except ApplicationError as exc:
            form_errors_apply(form, exc)
    if is_htmx(request):
        access = selectors.idea_get_for_user(idea_id=pk, user=request.user)
        return render(
            request,
            "ideas/_comments.html",
            {
                "idea": access.idea,
                "access": access,
                "comments": selectors.idea_comments(access=access),
                "comment_form": CommentForm() if comment else form,
            },
        )
    if comment is None:
        messages.error(request, " ".join(str(e) for errs in form.errors.values() for e in errs))
        return redirect(reverse("ideas:idea", kwargs={"pk": pk}) + "#comments")
    messages.success(request, _("Comment posted."))
    return redirect(reverse("ideas:idea", kwargs={"pk": pk}) + f"#comment-{comment.pk}")


@login_required
@require_POST
@not_found_as_404
def comment_edit_view(request: AuthedRequest, pk: int) -> HttpResponse:
    form = CommentForm(request.POST)
    idea_id = int(request.POST.get("idea") or 0)
    if form.is_valid():
        try:
            comment = services.comment_edit(
                comment_id=pk, user=request.user, body=form.cleaned_data["body"]
            )
        except NotFound:
            raise
        except ApplicationError as exc:
            flash_error(request, exc)
        else:
            messages.success(request, _("Comment saved."))
            return redirect(
                reverse("ideas:idea", kwargs={"pk": comment.idea_id}) + f"#comment-{pk}"
            )
    return redirect_back(request, reverse("ideas:idea", kwargs={"pk": idea_id}) if idea_id else "/")


@login_required
@require_POST
def report_view(request: AuthedRequest, pk: int) -> HttpResponse:
    form = ReportForm(request.POST)
    valid = form.is_valid()
    return post_action(
        request,
        lambda: services.report_create(
            idea_id=pk,
            user=request.user,
            reason=form.cleaned_data["reason"] if valid else "",
            comment_id=form.cleaned_data.get("comment") if valid else None,
        ),
        _("Thank you. Our team will look at it."),
        reverse("ideas:idea", kwargs={"pk": pk}),
    )


@require_GET
@not_found_as_404
def attachment_view(request: HttpRequest, pk: int, variant: str) -> HttpResponseBase:
    """An attachment of an idea the viewer may see: ``thumb`` inline, ``original`` as a
    download. Anything else (or a call the viewer may not see): 404."""
    attachment = IdeaAttachment.objects.filter(pk=pk).first()
    if attachment is None:
        raise Http404
    selectors.idea_get_for_user(idea_id=attachment.idea_id, user=request.user)
    if variant == "thumb" and attachment.is_image:
        return file_response(attachment.thumb, "thumb.webp", as_attachment=False)
    if variant == "original":
        return file_response(
            attachment.file,
            attachment.original_name,
            as_attachment=True,
            content_type=attachment.content_type,
        )
    raise Http404
