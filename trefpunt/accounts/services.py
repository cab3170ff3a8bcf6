"""Every write to users, profiles, portfolios, organisations and tokens."""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.validators import URLValidator, validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.text import slugify
from django.utils.translation import gettext as _

from trefpunt.community.notifications import notify_address
from trefpunt.core.exceptions import (
    Conflict,
    ErrorCode,
    NotFound,
    PermissionDenied,
    ValidationFailed,
)

from .images import image_bounded, image_open_checked, image_square
from .models import (
    HANDLE_RE,
    RESERVED_HANDLES,
    ApiToken,
    Invitation,
    Membership,
    Organisation,
    PortfolioImage,
    PortfolioItem,
    Profile,
    Role,
    Skill,
    User,
)
from .tokens import api_token_generate, invitation_token_generate, secret_hash

LANGUAGE_CODES = frozenset(
    [
        "af",
        "ar",
        "bg",
        "bn",
        "ca",
        "cs",
        "cy",
        "da",
        "de",
        "el",
        "en",
        "eo",
        "es",
        "et",
        "eu",
        "fa",
        "fi",
        "fr",
        "fy",
        "ga",
        "gd",
        "gl",
        "he",
        "hi",
        "hr",
        "hu",
        "hy",
        "id",
        "is",
        "it",
        "ja",
        "ka",
        "kk",
        "km",
        "kn",
        "ko",
        "lb",
        "lt",
        "lv",
        "mk",
        "ml",
        "mn",
        "mr",
        "ms",
        "my",
        "nb",
        "ne",
        "nl",
        "nn",
        "pa",
        "pl",
        "pt",
        "ro",
        "ru",
        "sk",
        "sl",
        "sq",
        "sr",
        "sv",
        "sw",
        "ta",
        "te",
        "th",
        "tl",
        "tr",
        "tt",
        "uk",
        "ur",
        "uz",
        "vi",
        "zh",
    ]
)
INVITATION_DAYS = 14
# Addresses that would shadow the organisation pages' own URLs.
RESERVED_ORGANISATION_SLUGS = frozenset(["new", "invitations"])
AVATAR_SIZE = 256
PORTFOLIO_MAX_SIDE = 1600
PORTFOLIO_MAX_IMAGES = 8


# --- users and profiles ------------------------------------------------------------


def handle_suggest(seed: str) -> str:
    """A free handle derived from a name or email, e.g. ``anna-de-vries`` or ``anna-7f3a``."""
    base = slugify(seed.split("@")[0])[:24].strip("-_") or "member"
    if len(base) < 3:
        base = f"{base}-member"[:24]
    candidate = base
    while (
        candidate in RESERVED_HANDLES
        or not re.match(HANDLE_RE, candidate)
        or Profile.objects.filter(handle=candidate).exists()
    ):
        candidate = f"{base[:20]}-{secrets.token_hex(2)}"
    return candidate


def name_from_email(email: str) -> str:
    """A first guess at a display name: ``piet.puk+x@example.org`` → ``Piet Puk``."""
    local = email.split("@")[0].split("+")[0]
    words = [w for w in re.split(r"[._\-]+", local) if w]
    return " ".join(w[:1].upper() + w[1:] for w in words) or local


def profile_create(*, user: User, display_name: str = "", handle: str = "") -> Profile:
    """Give a new user a profile; called inside the sign-up transaction."""
    name = ((display_name or "").strip() or name_from_email(user.email))[:80]
    for _attempt in range(5):
        try:
            with transaction.atomic():
                return Profile.objects.create(
                    user=user, display_name=name, handle=handle or handle_suggest(name)
                )
        except IntegrityError:
            if handle:
                raise ValidationFailed(fields={"handle": _("This handle is taken.")}) from None
    raise Conflict(
        _("Could not find a free handle; please try again."), code=ErrorCode.HANDLE_TAKEN
    )


def user_create(
    *,
    email: str,
    password: str | None,
    display_name: str = "",
    handle: str = "",
    is_staff: bool = False,
    verified: bool = True,
    language: str = "",
) -> User:
    """Create a user with a verified (or not) email address and a profile, for operators,
    demo data and tests. Sign-up goes through allauth and ends in ``profile_create`` via the
    account adapter. Joins the caller's transaction, so ``createuser --token`` can add a token
    atomically."""
    from allauth.account.models import EmailAddress

    email = (email or "").strip().lower()
    errors: dict[str, str] = {}
    try:
        validate_email(email)
    except DjangoValidationError:
        errors["email"] = _("Enter a valid email address.")
    if "email" not in errors and User.objects.filter(email__iexact=email).exists():
        errors["email"] = _("A user with this email address already exists.")
    if password is not None:
        try:
            validate_password(password)
        except DjangoValidationError as exc:
            errors["password"] = " ".join(exc.messages)
    if handle:
        try:
            handle_check(handle)
        except ValidationFailed as exc:
            errors.update({k: v[0] for k, v in exc.fields.items()})
    if len(display_name or "") > 80:
        errors["display_name"] = _("At most %(n)d characters.") % {"n": 80}
    if errors:
        raise ValidationFailed(fields=errors)
    try:
        with transaction.atomic():
            user = User.objects.create_user(
                email=email,
                password=password,
                is_staff=is_staff,
                is_superuser=is_staff,
                language=language or translation.get_language() or settings.LANGUAGE_CODE,
            )
            EmailAddress.objects.create(user=user, email=email, primary=True, verified=verified)
            profile_create(user=user, display_name=display_name, handle=handle)
    except IntegrityError:
        # A concurrent sign-up with the same address won.
        raise ValidationFailed(
            fields={"email": _("A user with this email address already exists.")}
        ) from None
    return user


def handle_check(handle: str, *, profile: Profile | None = None) -> str:
    handle = (handle or "").strip().lower()
    if not re.match(HANDLE_RE, handle):
        raise ValidationFailed(
            fields={
                "handle": _(
                    "Use 3–30 lowercase letters, digits, '-' or '_', starting and ending with a "
                    "letter or digit."
                )
            }
        )
    if handle in RESERVED_HANDLES:
        raise ValidationFailed(fields={"handle": _("This handle is reserved.")})
    taken = Profile.objects.filter(handle=handle)
    if profile is not None:
        taken = taken.exclude(pk=profile.pk)
    if taken.exists():
        raise ValidationFailed(fields={"handle": _("This handle is taken.")})
    return handle


def skills_parse(text: str) -> list[str]:
    names = [re.sub(r"\s+", " ", part).strip() for part in re.split(r"[,\n]", text or "")]
    names = [n for n in names if n]
    if len(names) > 20:
        raise ValidationFailed(fields={"skills": _("List at most 20 skills.")})
    for name in names:
        if len(name) > 40 or not slugify(name):
            raise ValidationFailed(
                fields={
                    "skills": _(
                        "“%(skill)s” is not a skill name we can use (at most 40 letters or digits)."
                    )
                    % {"skill": name[:60]}
                }
            )
    return names


def languages_parse(text: str | Sequence[str]) -> list[str]:
    parts = re.split(r"[,\s]+", text) if isinstance(text, str) else list(text)
    codes = [p.strip().lower() for p in parts if p.strip()]
    unknown = [c for c in codes if c not in LANGUAGE_CODES]
    if unknown:
        raise ValidationFailed(
            fields={
                "languages": _(
                    "Unknown language code: %(code)s. Use two-letter codes such as nl, en, de."
                )
                % {"code": unknown[0]}
            }
        )
    return list(dict.fromkeys(codes))


def _collect(errors: dict[str, str], checks: dict[str, Any]) -> dict[str, Any]:
    """Run every check; gather each refusal's field messages into ``errors`` (the first per
    field) and return the results of those that passed."""
    results: dict[str, Any] = {}
    for name, check in checks.items():
        try:
            results[name] = check()
        except ValidationFailed as exc:
            errors.update({k: v[0] for k, v in exc.fields.items()})
    return results


def _avatar_prepare(avatar: UploadedFile | None) -> Any:
    if avatar is None:
        return None
    return image_square(
        image_open_checked(avatar, field="avatar", max_bytes=settings.MAX_AVATAR_BYTES),
        AVATAR_SIZE,
    )


def profile_update(
    *,
    profile: Profile,
    handle: str,
    display_name: str,
    headline: str = "",
    bio: str = "",
    location: str = "",
    languages: str | Sequence[str] = "",
    skills: str = "",
    avatar: UploadedFile | None = None,
) -> Profile:
    """Validate everything first, then save in one transaction: nothing is half-saved."""
    errors: dict[str, str] = {}
    results = _collect(
        errors,
        {
            "handle": lambda: handle_check(handle, profile=profile),
            "languages": lambda: languages_parse(languages),
            "skills": lambda: skills_parse(skills),
            "avatar": lambda: _avatar_prepare(avatar),
        },
    )
    display_name = (display_name or "").strip()
    if not display_name:
        errors["display_name"] = _("Enter the name people see.")
    texts = {"display_name": display_name, "headline": headline, "bio": bio, "location": location}
    for name, value in texts.items():
        limit = getattr(Profile._meta.get_field(name), "max_length", None) or 0
        if len(value or "") > limit:
            errors.setdefault(name, _("At most %(n)d characters.") % {"n": limit})
    if errors:
        raise ValidationFailed(fields=errors)
    avatar_file = results["avatar"]
    with transaction.atomic(durable=True):
        profile.handle = results["handle"]
        profile.display_name = display_name
        profile.headline = (headline or "").strip()
        profile.bio = (bio or "").strip()
        profile.location = (location or "").strip()
        profile.languages = results["languages"]
        skill_objects = []
        for name in results["skills"]:
            skill, _created = Skill.objects.get_or_create(
                slug=slugify(name)[:40], defaults={"name": name}
            )
            skill_objects.append(skill)
        try:
            with transaction.atomic():
                profile.save()
        except IntegrityError:
            # Someone took the handle between the check and the save.
            profile.refresh_from_db()
            raise ValidationFailed(fields={"handle": _("This handle is taken.")}) from None
        profile.skills.set(skill_objects)
        if avatar_file is not None:
            old = profile.avatar.name if profile.avatar else ""
            profile.avatar.save(f"avatar-{secrets.token_hex(4)}.webp", avatar_file, save=True)
            if old:
                transaction.on_commit(lambda: profile.avatar.storage.delete(old))
    return profile


# --- portfolio --------------------------------------------------------------------------


def _portfolio_images_prepare(images: Sequence[UploadedFile]) -> list[tuple[object, int, int]]:
    if len(images) > PORTFOLIO_MAX_IMAGES:
        raise ValidationFailed(
            fields={"images": _("At most %(n)d images per item.") % {"n": PORTFOLIO_MAX_IMAGES}}
        )
    return [
        image_bounded(
            image_open_checked(f, field="images", max_bytes=settings.MAX_UPLOAD_BYTES),
            PORTFOLIO_MAX_SIDE,
        )
        for f in images
    ]


def portfolio_item_create(
    *,
    owner: User,
    title: str,
    description: str = "",
    images: Sequence[UploadedFile] = (),
    source: str = PortfolioItem.Source.MANUAL,
    source_ref: str = "",
) -> PortfolioItem:
    """Add an item; items the platform adds (``source_ref`` set) are added once only."""
    title = (title or "").strip()
    errors: dict[str, str] = {}
    if not title:
        errors["title"] = _("Give the item a title.")
    elif len(title) > 120:
        errors["title"] = _("At most %(n)d characters.") % {"n": 120}
    if len(description or "") > 4000:
        errors["description"] = _("At most %(n)d characters.") % {"n": 4000}
    prepared = []
    try:
        prepared = _portfolio_images_prepare(images)
    except ValidationFailed as exc:
        errors.update({k: v[0] for k, v in exc.fields.items()})
    if errors:
        raise ValidationFailed(fields=errors)
    if source_ref:
        existing = PortfolioItem.objects.filter(owner=owner, source_ref=source_ref).first()
        if existing is not None:
            return existing
    try:
        # Joins the caller's transaction: a contest award adds the winner's item with it.
        with transaction.atomic():
            item = PortfolioItem.objects.create(
                owner=owner,
                title=title,
                description=(description or "").strip(),
                source=source,
                source_ref=source_ref,
            )
            for position, (content, width, height) in enumerate(prepared):
                picture = PortfolioImage(item=item, width=width, height=height, position=position)
                picture.image.save(f"{secrets.token_hex(8)}.webp", content, save=False)  # type: ignore[arg-type]
                picture.save()
    except IntegrityError:
        if not source_ref:
            raise
        # A concurrent call added the same platform item first.
        return PortfolioItem.objects.get(owner=owner, source_ref=source_ref)
    return item


def portfolio_item_delete(*, item_id: int, user: User) -> None:
    """Delete one of the user's own items (someone else's is not found) and, after commit,
    its image files."""
    with transaction.atomic(durable=True):
        item = PortfolioItem.objects.filter(pk=item_id, owner=user).first()
        if item is None:
            raise NotFound(_("Portfolio item not found."))
        files = [(p.image.storage, p.image.name) for p in item.images.all() if p.image.name]
        item.delete()

        def files_delete() -> None:
            for storage, name in files:
                storage.delete(name)

        transaction.on_commit(files_delete)


# --- organisations ----------------------------------------------------------------------


def _membership(organisation: Organisation, user: User) -> Membership | None:
    return Membership.objects.filter(organisation=organisation, user=user).first()


def organisation_create(
    *, user: User, name: str, slug: str = "", description: str = "", website: str = ""
) -> Organisation:
    name = (name or "").strip()
    slug = slugify(slug or name)[:60]
    errors: dict[str, str] = {}
    if not name:
        errors["name"] = _("Enter the organisation's name.")
    elif len(name) > 120:
        errors["name"] = _("At most %(n)d characters.") % {"n": 120}
    if len(description or "") > 4000:
        errors["description"] = _("At most %(n)d characters.") % {"n": 4000}
    if not slug or len(slug) < 2:
        errors["slug"] = _("Choose an address of at least two letters or digits.")
    elif slug in RESERVED_ORGANISATION_SLUGS:
        errors["slug"] = _("This address is reserved; choose another.")
    elif Organisation.objects.filter(slug=slug).exists():
        errors["slug"] = _("This address is taken; choose another.")
    website = (website or "").strip()
    if website:
        try:
            URLValidator(schemes=["http", "https"])(website)
            if len(website) > 200:
                raise DjangoValidationError("too long")
        except DjangoValidationError:
            errors["website"] = _("Enter a full web address starting with https://.")
    if errors:
        raise ValidationFailed(fields=errors)
    try:
        with transaction.atomic(durable=True):
            organisation = Organisation.objects.create(
                name=name,
                slug=slug,
                description=(description or "").strip(),
                website=website,
                created_by=user,
            )
            Membership.objects.create(organisation=organisation, user=user, role=Role.OWNER)
    except IntegrityError:
        raise ValidationFailed(
            fields={"slug": _("This address is taken; choose another.")}
        ) from None
    return organisation


def organisation_require_admin(*, organisation: Organisation, user: User) -> Membership:
    membership = _membership(organisation, user)
    if membership is None:
        raise NotFound(_("Organisation not found."))
    if membership.role not in {Role.OWNER, Role.ADMIN}:
        raise PermissionDenied(
            _("Only owners and admins of %(org)s can do this.") % {"org": organisation.name},
            code=ErrorCode.NOT_A_MANAGER,
        )
    return membership


def organisation_invite(
    *, organisation: Organisation, inviter: User, email: str, role: str = Role.MEMBER
) -> tuple[Invitation, str]:
    """Invite someone by email; returns the invitation and the raw token (emailed after
    commit). Only owners and admins invite (others: not found / forbidden); only an owner
    invites an owner. One open invitation per address and organisation (a constraint)."""
    organisation_require_admin(organisation=organisation, user=inviter)
    email = (email or "").strip().lower()
    errors: dict[str, str] = {}
    try:
        validate_email(email)
    except DjangoValidationError:
        errors["email"] = _("Enter a valid email address.")
    if role not in Role.values:
        errors["role"] = _("Choose owner, admin or member.")
    elif role == Role.OWNER and _membership(organisation, inviter).role != Role.OWNER:  # type: ignore[union-attr]
        errors["role"] = _("Only an owner can invite another owner.")
    if (
        not errors
        and Membership.objects.filter(organisation=organisation, user__email__iexact=email).exists()
    ):
        errors["email"] = _("%(email)s is already a member.") % {"email": email}
    if (
        not errors
        and Invitation.objects.filter(
            organisation=organisation,
            email__iexact=email,
            accepted_at__isnull=True,
            expires_at__gt=timezone.now(),
        ).exists()
    ):
        errors["email"] = _("%(email)s has already been invited.") % {"email": email}
    if errors:
        raise ValidationFailed(fields=errors)
    token = invitation_token_generate()
    with transaction.atomic(durable=True):
        # An expired invitation for the same address makes way for the new one.
        Invitation.objects.filter(
            organisation=organisation,
            email__iexact=email,
            accepted_at__isnull=True,
            expires_at__lte=timezone.now(),
        ).delete()
        try:
            with transaction.atomic():
                invitation = Invitation.objects.create(
                    organisation=organisation,
                    email=email,
                    role=role,
                    token_hash=secret_hash(token),
                    invited_by=inviter,
                    expires_at=timezone.now() + timedelta(days=INVITATION_DAYS),
                )
        except IntegrityError:
            # A concurrent invitation for the same address won.
            raise ValidationFailed(
                fields={"email": _("%(email)s has already been invited.") % {"email": email}}
            ) from None
        notify_address(
            address=email,
            language=translation.get_language() or settings.LANGUAGE_CODE,
            kind="accounts.org_invitation",
            context={
                "inviter": str(inviter),
                "organisation": organisation.name,
                "role": invitation.role,
                "days": INVITATION_DAYS,
            },
            path=f"/orgs/invitations/{token}/",
        )
    return invitation, token


def invitation_check(*, invitation: Invitation, user: User) -> None:
    """Raise why ``user`` may not accept ``invitation``: it must be addressed to one of their
    verified email addresses, still open and not expired. The accept page asks the same."""
    from allauth.account.models import EmailAddress

    if not EmailAddress.objects.filter(
        user=user, email__iexact=invitation.email, verified=True
    ).exists():
        raise PermissionDenied(
            _(
                "This invitation was sent to %(email)s, but you are logged in as %(current)s. "
                "Log in with that address to accept it, or add and verify it under "
                "Account and security."
            )
            % {"email": invitation.email, "current": user.email},
            code=ErrorCode.INVITATION_FOR_OTHER,
        )
    if invitation.accepted_at is not None:
        raise Conflict(_("This invitation was already accepted."), code=ErrorCode.INVITATION_USED)
    if invitation.expires_at < timezone.now():
        raise Conflict(
            _("This invitation has expired; ask for a new one."), code=ErrorCode.INVITATION_EXPIRED
        )


def invitation_accept(*, token: str, user: User) -> Membership:
    """Join the organisation through an emailed invitation (see ``invitation_check``). The
    invitation row is locked, so it is accepted once."""
    with transaction.atomic(durable=True):
        invitation = (
            Invitation.objects.select_for_update()
            .select_related("organisation")
            .filter(token_hash=secret_hash(token))
            .first()
        )
        if invitation is None:
            raise NotFound(_("This invitation does not exist."))
        invitation_check(invitation=invitation, user=user)
        invitation.accepted_at = timezone.now()
        invitation.accepted_by = user
        invitation.save(update_fields=["accepted_at", "accepted_by"])
        membership, _created = Membership.objects.get_or_create(
            organisation=invitation.organisation, user=user, defaults={"role": invitation.role}
        )
        return membership


def membership_remove(*, organisation: Organisation, actor: User, member_id: int) -> None:
    """Remove a member. Owners and admins remove members and admins; only an owner removes
    an owner, and never the last one. The owner rows are locked so two owners removing
    each other at once cannot leave the organisation without an owner."""
    with transaction.atomic(durable=True):
        actor_membership = organisation_require_admin(organisation=organisation, user=actor)
        owners = list(
            Membership.objects.select_for_update()
            .filter(organisation=organisation, role=Role.OWNER)
            .order_by("pk")
        )
        membership = (
            Membership.objects.select_for_update()
            .filter(organisation=organisation, pk=member_id)
            .first()
        )
        if membership is None:
            raise NotFound(_("Member not found."))
        if membership.role == Role.OWNER:
            if actor_membership.role != Role.OWNER:
                raise PermissionDenied(
                    _("Only an owner can remove another owner."), code=ErrorCode.NOT_A_MANAGER
                )
            if len(owners) <= 1:
                raise Conflict(
                    _("An organisation needs at least one owner."), code=ErrorCode.LAST_OWNER
                )
        membership.delete()


# --- API tokens ---------------------------------------------------------------------------


def api_token_create(*, user: User, name: str) -> tuple[ApiToken, str]:
    """Create a personal access token; the raw token is returned once and never stored."""
    name = (name or "").strip()
    if not name:
        raise ValidationFailed(fields={"name": _("Name the token, e.g. 'laptop script'.")})
    if len(name) > 60:
        raise ValidationFailed(fields={"name": _("At most %(n)d characters.") % {"n": 60}})
    raw, prefix = api_token_generate()
    token = ApiToken.objects.create(
        user=user, name=name, prefix=prefix, token_hash=secret_hash(raw)
    )
    return token, raw


def api_token_revoke(*, user: User, token_id: int) -> ApiToken:
    updated = ApiToken.objects.filter(pk=token_id, user=user, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    token = ApiToken.objects.filter(pk=token_id, user=user).first()
    if token is None:
        raise NotFound(_("Token not found."))
    if not updated:
        raise Conflict(_("This token was already revoked."), code=ErrorCode.TOKEN_REVOKED)
    return token


def api_token_authenticate(raw: str) -> User | None:
    """The active user a raw token belongs to, or ``None``. Records when it was last used."""
    if not raw or not raw.startswith("tp_"):
        return None
    token = (
        ApiToken.objects.select_related("user")
        .filter(token_hash=secret_hash(raw), revoked_at__isnull=True)
        .first()
    )
    if token is None or not token.user.is_active:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=5):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token.user
