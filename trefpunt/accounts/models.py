"""Users, profiles, portfolios, organisations and API tokens."""

from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.core.validators import RegexValidator
from django.db import models
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

HANDLE_RE = r"^[a-z0-9](?:[a-z0-9_-]{1,28}[a-z0-9])$"
handle_validator = RegexValidator(
    HANDLE_RE,
    _(
        "Use 3–30 lowercase letters, digits, '-' or '_', starting and ending with a letter "
        "or digit."
    ),
)
# Handles that would shadow pages or confuse people.
RESERVED_HANDLES = frozenset(
    [
        "admin",
        "api",
        "staff",
        "support",
        "help",
        "trefpunt",
        "settings",
        "wallet",
        "pay",
        "orgs",
        "accounts",
        "static",
        "media",
        "contests",
        "ideas",
        "batches",
        "projects",
        "search",
        "root",
        "system",
        "null",
        "none",
        "about",
    ]
)


class EmailUserManager(UserManager["User"]):
    def _create_user_object(
        self, username: Any, email: str | None, password: str | None, **extra: Any
    ) -> User:
        user = self.model(email=self.normalize_email(email), **extra)
        user.password = ""
        if password:
            user.set_password(password)
        return user

    def create_user(
        self,
        username: Any = None,
        email: str | None = None,
        password: str | None = None,
        **extra: Any,
    ) -> User:
        user = self._create_user_object(username, email or username, password, **extra)
        user.save(using=self._db)
        return user

    def create_superuser(
        self,
        username: Any = None,
        email: str | None = None,
        password: str | None = None,
        **extra: Any,
    ) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(username, email, password, **extra)


class User(AbstractUser):
    """A person. Logs in with email; the public identity is the profile's handle."""

    username = None  # type: ignore[assignment]
    first_name = None  # type: ignore[assignment]
    last_name = None  # type: ignore[assignment]
    email = models.EmailField(_("email address"), unique=True)
    # The language of the last page the person opened: emails and notices speak it.
    language = models.CharField(
        _("language"), max_length=8, choices=settings.LANGUAGES, default=settings.LANGUAGE_CODE
    )

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []
    objects: ClassVar[EmailUserManager] = EmailUserManager()

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [models.UniqueConstraint(Lower("email"), name="user_email_ci_unique")]

    def __str__(self) -> str:
        profile = getattr(self, "profile", None)
        return profile.display_name if profile else self.email


class Skill(models.Model):
    name = models.CharField(max_length=40)
    slug = models.SlugField(max_length=40, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


def avatar_path(instance: Profile, filename: str) -> str:
    return f"avatars/{instance.user_id}/{filename}"


# The display name a deleted account keeps (``privacy.account_delete``). It is stored in
# English and read in the reader's language (``DisplayNameField``).
FORMER_MEMBER = "Former member"


class DisplayNameField(models.CharField):
    """A profile's display name; a deleted account's "Former member" is read translated
    (into the language active when the row is loaded: the request's)."""

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        if value == FORMER_MEMBER:
            return gettext("Former member")
        return value


class Profile(models.Model):
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile"
    )
    handle = models.CharField(
        _("handle"), max_length=30, unique=True, validators=[handle_validator]
    )
    display_name = DisplayNameField(_("display name"), max_length=80)
    headline = models.CharField(_("headline"), max_length=140, blank=True)
    bio = models.TextField(_("bio"), max_length=4000, blank=True)
    location = models.CharField(_("location"), max_length=80, blank=True)
    # ISO 639-1 codes, e.g. ["nl", "en"].
    languages = models.JSONField(_("languages"), default=list, blank=True)
    skills = models.ManyToManyField(
        Skill, blank=True, related_name="profiles", verbose_name=_("skills")
    )
    avatar = models.ImageField(_("avatar"), upload_to=avatar_path, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(handle__regex=HANDLE_RE), name="profile_handle_format"
            ),
        ]

    def __str__(self) -> str:
        return f"@{self.handle}"

    def get_absolute_url(self) -> str:
        return reverse("accounts:profile", kwargs={"handle": self.handle})


def portfolio_image_path(instance: PortfolioImage, filename: str) -> str:
    return f"portfolio/{instance.item.owner_id}/{filename}"


class PortfolioItem(models.Model):
    class Source(models.TextChoices):
        MANUAL = "manual", _("Added by the member")
        CONTEST_WIN = "contest_win", _("Winning contest entry")
        CONTEST_ENTRY = "contest_entry", _("Contest entry")
        IDEA = "idea", _("Rewarded idea")

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="portfolio_items"
    )
    title = models.CharField(_("title"), max_length=120)
    description = models.TextField(_("description"), max_length=4000, blank=True)
    source = models.CharField(max_length=20, choices=Source.choices, default=Source.MANUAL)
    # "contests.entry:12" for items the platform added; unique per owner so
    # adding a won entry twice is harmless.
    source_ref = models.CharField(max_length=60, blank=True)
    position = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["position", "-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "source_ref"],
                condition=~models.Q(source_ref=""),
                name="portfolio_item_source_unique",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class PortfolioImage(models.Model):
    item = models.ForeignKey(PortfolioItem, on_delete=models.CASCADE, related_name="images")
    image = models.ImageField(upload_to=portfolio_image_path)
    width = models.PositiveIntegerField(default=0)
    height = models.PositiveIntegerField(default=0)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]


class Organisation(models.Model):
    name = models.CharField(_("name"), max_length=120)
    slug = models.SlugField(_("address"), max_length=60, unique=True)
    description = models.TextField(_("description"), max_length=4000, blank=True)
    website = models.URLField(_("website"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        # With a context: the profile page counts "organisation" with a plural, and one
        # message cannot be both.
        verbose_name = pgettext_lazy("model", "organisation")
        verbose_name_plural = pgettext_lazy("model", "organisations")

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("accounts:org_detail", kwargs={"slug": self.slug})


class Role(models.TextChoices):
    OWNER = "owner", _("Owner")
    ADMIN = "admin", _("Admin")
    MEMBER = "member", _("Member")


class Membership(models.Model):
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="memberships"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organisation", "user"], name="membership_unique"),
        ]


class Invitation(models.Model):
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="invitations"
    )
    email = models.EmailField(_("email address"))
    role = models.CharField(_("role"), max_length=10, choices=Role.choices, default=Role.MEMBER)
    # Only the SHA-256 of the emailed token is stored.
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                Lower("email"),
                "organisation",
                condition=models.Q(accepted_at__isnull=True),
                name="invitation_open_unique",
            ),
        ]


class ApiToken(models.Model):
    """A personal access token. Only its SHA-256 is stored; the token is shown once."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(_("name"), max_length=60)
    prefix = models.CharField(max_length=12)
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"
