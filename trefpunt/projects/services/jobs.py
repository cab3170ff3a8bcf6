"""A job post from draft to closed: write the draft (skills, budget, visibility, cap),
publish it, invite matching freelancers, close it. Posting costs nothing, and answering a
job never costs the freelancer anything."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from trefpunt.accounts.models import Organisation, Skill
from trefpunt.accounts.selectors import organisations_user_can_post_for
from trefpunt.core.exceptions import ErrorCode, PermissionDenied, ValidationFailed
from trefpunt.core.files import file_prepare
from trefpunt.core.states import event_record

from ..models import DEFAULT_PROPOSAL_CAP, Job, JobAttachment, JobInvitation
from ..selectors import job_get_for_manager
from ..selectors.matches import match_reasons
from ..states import JOB_STATES
from .common import int_clean, money_clean, raise_if, tell, text_clean

if TYPE_CHECKING:
    from trefpunt.accounts.models import User

J = Job.Status
MAX_SKILLS = 10
MAX_ATTACHMENTS = 5


def _organisation_clean(errors: dict[str, str], user: User, slug: Any) -> Organisation | None:
    if not slug:
        return None
    organisation = organisations_user_can_post_for(user=user).filter(slug=str(slug)).first()
    if organisation is None:
        errors["organisation"] = _("You can post only for organisations you own or run.")
    return organisation


def _skills_clean(errors: dict[str, str], raw: Any) -> list[Skill]:
    """Skills from the profiles' skill list, by slug or name."""
    items = raw if isinstance(raw, list | tuple) else str(raw or "").split(",")
    wanted = [str(i).strip() for i in items if str(i).strip()]
    if len(wanted) > MAX_SKILLS:
        errors["skills"] = _("At most %(n)d skills.") % {"n": MAX_SKILLS}
        return []
    found = {s.slug: s for s in Skill.objects.filter(slug__in=wanted)}
    by_name = {s.name.lower(): s for s in Skill.objects.filter(name__in=wanted)}
    skills = []
    for item in wanted:
        skill = found.get(item) or by_name.get(item.lower())
        if skill is None:
            errors["skills"] = _("“%(name)s” is not a skill on the list.") % {"name": item}
        elif skill not in skills:
            skills.append(skill)
    return skills


def _draft_clean(user: User, data: Mapping[str, Any]) -> dict[str, Any]:
    errors: dict[str, str] = {}
    budget_min = money_clean(errors, "budget_min", data.get("budget_min"), 100)
    budget_max = money_clean(
        errors, "budget_max", data.get("budget_max") or data.get("budget_min"), 100
    )
    if "budget_min" not in errors and "budget_max" not in errors and budget_max < budget_min:
        errors["budget_max"] = _("The upper end cannot be below the lower end.")
    duration = str(data.get("duration") or Job.Duration.WEEKS)
    if duration not in Job.Duration.values:
        errors["duration"] = _("Choose one of the options.")
    visibility = str(data.get("visibility") or Job.Visibility.PUBLIC)
    if visibility not in Job.Visibility.values:
        errors["visibility"] = _("Choose one of the options.")
    fields: dict[str, Any] = {
        "title": text_clean(errors, Job, "title", data.get("title")),
        "description": text_clean(errors, Job, "description", data.get("description")),
        "budget_min": budget_min,
        "budget_max": budget_max,
        "duration": duration,
        "visibility": visibility,
        "proposal_cap": int_clean(
            errors, "proposal_cap", data.get("proposal_cap") or DEFAULT_PROPOSAL_CAP, 1, 200
        ),
        "organisation": _organisation_clean(errors, user, data.get("organisation")),
        "skills": _skills_clean(errors, data.get("skills", [])),
    }
    raise_if(errors)
    return fields


def job_draft_check(*, user: User, **data: Any) -> None:
    _draft_clean(user, data)


def _attachments_store(job: Job, files: Sequence[Any]) -> None:
    have = JobAttachment.objects.filter(job=job).count()
    if have + len(files) > MAX_ATTACHMENTS:
        raise ValidationFailed(
            fields={"attachments": _("At most %(n)d files.") % {"n": MAX_ATTACHMENTS}}
        )
    for upload in files:
        derived = file_prepare(upload, field="attachments", derive=False)
        attachment = JobAttachment(
            job=job,
            content_type=derived.content_type,
            original_name=derived.original_name,
            size=derived.size,
        )
        attachment.file.save(derived.name(), ContentFile(derived.content), save=False)
        attachment.save()


def job_create_draft(*, user: User, attachments: Sequence[Any] = (), **data: Any) -> Job:
    fields = _draft_clean(user, data)
    skills = fields.pop("skills")
    with transaction.atomic(durable=True):
        job = Job.objects.create(created_by=user, **fields)
        job.skills.set(skills)
        _attachments_store(job, attachments)
        event_record(subject="job", subject_id=job.pk, kind="created", actor=user)
    return job


def job_update_draft(
    *, job_id: int, user: User, attachments: Sequence[Any] = (), **data: Any
) -> Job:
    job = job_get_for_manager(job_id=job_id, user=user)
    JOB_STATES.check(job, J.OPEN, _("edit the job"))
    fields = _draft_clean(user, data)
    skills = fields.pop("skills")
    with transaction.atomic(durable=True):
        if not Job.objects.filter(pk=job.pk, status=J.DRAFT).update(**fields):
            raise JOB_STATES.wrong_state(job, _("edit the job"))
        for name, value in fields.items():
            setattr(job, name, value)
        job.skills.set(skills)
        _attachments_store(job, attachments)
    return job


def job_publish(*, job_id: int, user: User) -> Job:
    """Draft → open: freelancers can see it (public) or the invited can (invite-only)."""
    job = job_get_for_manager(job_id=job_id, user=user)
    with transaction.atomic(durable=True):
        JOB_STATES.move(
            job,
            J.OPEN,
            action=_("publish the job"),
            actor=user,
            event="published",
            published_at=timezone.now(),
        )
    return job


def job_close(*, job_id: int, user: User) -> Job:
    """Close a draft or an open job without hiring; the proposals hear it."""
    from ..models import Proposal

    job = job_get_for_manager(job_id=job_id, user=user)
    if job.status == J.HIRED:
        raise JOB_STATES.wrong_state(job, _("close the job"))
    with transaction.atomic(durable=True):
        JOB_STATES.move(
            job,
            J.CLOSED,
            action=_("close the job"),
            actor=user,
            event="closed",
            closed_at=timezone.now(),
        )
        waiting = list(
            Proposal.objects.filter(
                job=job, status__in=[Proposal.Status.SUBMITTED, Proposal.Status.SHORTLISTED]
            ).values_list("freelancer_id", flat=True)
        )
        Proposal.objects.filter(
            job=job, status__in=[Proposal.Status.SUBMITTED, Proposal.Status.SHORTLISTED]
        ).update(status=Proposal.Status.NOT_SELECTED)
        tell(waiting, "projects.job_closed", path=job.get_absolute_url(), job_id=job.pk)
    return job


def job_invite(*, job_id: int, user: User, invitee_id: int) -> JobInvitation:
    """Invite a freelancer to propose; the invitation keeps why they matched."""
    from trefpunt.accounts.models import User as UserModel

    job = job_get_for_manager(job_id=job_id, user=user)
    if job.status != J.OPEN:
        raise JOB_STATES.wrong_state(job, _("invite freelancers"))
    invitee = UserModel.objects.filter(pk=invitee_id, is_active=True).first()
    if invitee is None:
        raise ValidationFailed(fields={"user": _("No such member.")})
    from ..selectors import job_can_manage

    if job_can_manage(job, invitee):
        raise PermissionDenied(_("You cannot invite yourself."), code=ErrorCode.OWN_JOB)
    with transaction.atomic(durable=True):
        invitation, created = JobInvitation.objects.get_or_create(
            job=job,
            user=invitee,
            defaults={"invited_by": user, "reasons": match_reasons(job=job, user_id=invitee.pk)},
        )
        if not created:
            raise ValidationFailed(fields={"user": _("This member is already invited.")})
        tell(
            [invitee.pk],
            "projects.invited",
            path=job.get_absolute_url(),
            job_id=job.pk,
        )
    return invitation
