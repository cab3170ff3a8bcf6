"""The locked-down staff records: users, organisations, contests, batches, the ledger and
moderation, in the Django admin, read-only. Every change goes through the services (the
moderation pages for people and content, the apps' own staff pages for money), so the
admin can never bypass a rule, the ledger's append-only rows or the audit log.

The site served at ``/admin/`` is :data:`site`, which holds only these records: other apps
(allauth's addresses and keys, Django's groups and sites, the task queue) register
editable admins on Django's default site, which is not served."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _

from trefpunt.accounts.models import Organisation, User
from trefpunt.contests.models import Contest
from trefpunt.core.money import format_cents
from trefpunt.ledger.models import Deposit, JournalEntry, LedgerAccount, Payout, Posting
from trefpunt.microtasks.models import Batch

from .models import AuditEntry, Decision, Report, Sanction


class StaffRecords(admin.AdminSite):
    site_header = _("Trefpunt records")
    site_title = _("Trefpunt records")
    index_title = _("Read-only records")


site = StaffRecords(name="admin")

# The index's three column headers for screen readers (Django's admin/app_list.html) are
# missing from Django's own Dutch catalogue; named here, they are in ours, which comes first.
APP_LIST_HEADERS = (
    gettext_noop("Model name"),
    gettext_noop("Add link"),
    gettext_noop("Change or view list link"),
)


def money_column(field: str, label: Any) -> Callable[[Any], str]:
    """A list column showing the cents of ``field`` as money in the row's currency."""

    def show(obj: Any) -> str:
        return format_cents(getattr(obj, field), obj.currency)

    return admin.display(description=label, ordering=field)(show)


class ReadOnlyAdmin(admin.ModelAdmin):
    """View only, for staff; nothing is added, changed or deleted here."""

    actions = None

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_active and request.user.is_staff)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return bool(request.user.is_active and request.user.is_staff)


@admin.register(User, site=site)
class UserAdmin(ReadOnlyAdmin):
    list_display = ["email", "handle", "is_active", "is_staff", "date_joined", "moderate"]
    list_filter = ["is_active", "is_staff"]
    search_fields = ["email", "profile__handle", "profile__display_name"]
    exclude = ["password"]

    @admin.display(description=_("handle"))
    def handle(self, obj: User) -> str:
        profile = getattr(obj, "profile", None)
        return f"@{profile.handle}" if profile else ""

    @admin.display(description=_("moderation"))
    def moderate(self, obj: User) -> str:
        return format_html(
            '<a href="{}">{}</a>',
            reverse("moderation:user", args=[obj.pk]),
            gettext("warn · suspend · ban"),
        )


@admin.register(Organisation, site=site)
class OrganisationAdmin(ReadOnlyAdmin):
    list_display = ["name", "slug", "created_at"]
    search_fields = ["name", "slug"]


@admin.register(Contest, site=site)
class ContestAdmin(ReadOnlyAdmin):
    list_display = [
        "title",
        "status",
        "is_private",
        money_column("funded_amount", _("funded amount")),
        "created_at",
    ]
    list_filter = ["status", "is_private", "category"]
    search_fields = ["title"]


@admin.register(Batch, site=site)
class BatchAdmin(ReadOnlyAdmin):
    list_display = [
        "title",
        "status",
        money_column("reward", _("reward per answer")),
        "created_at",
    ]
    list_filter = ["status"]
    search_fields = ["title"]


@admin.register(LedgerAccount, site=site)
class LedgerAccountAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "kind",
        "reference",
        "user",
        "organisation",
        money_column("balance", _("balance")),
    ]
    list_filter = ["kind", "currency"]
    search_fields = ["reference", "user__email"]


class PostingInline(admin.TabularInline):
    model = Posting
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(JournalEntry, site=site)
class JournalEntryAdmin(ReadOnlyAdmin):
    list_display = ["id", "kind", "reference", "description", "created_at"]
    list_filter = ["kind"]
    search_fields = ["reference", "description", "idempotency_key"]
    inlines = [PostingInline]


@admin.register(Deposit, site=site)
class DepositAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "created_by",
        money_column("amount", _("amount")),
        "provider",
        "status",
        "created_at",
    ]
    list_filter = ["status", "provider"]


@admin.register(Payout, site=site)
class PayoutAdmin(ReadOnlyAdmin):
    list_display = ["id", "requested_by", money_column("amount", _("amount")), "status"]
    list_filter = ["status"]
    exclude = ["iban"]


@admin.register(Report, site=site)
class ReportAdmin(ReadOnlyAdmin):
    list_display = ["id", "kind", "object_id", "reason", "status", "created_at"]
    list_filter = ["status", "kind", "reason"]


@admin.register(Decision, site=site)
class DecisionAdmin(ReadOnlyAdmin):
    list_display = ["id", "kind", "object_id", "action", "active", "appeal", "created_at"]
    list_filter = ["action", "active", "appeal"]


@admin.register(Sanction, site=site)
class SanctionAdmin(ReadOnlyAdmin):
    list_display = ["id", "user", "kind", "ends_at", "lifted_at", "created_at"]
    list_filter = ["kind"]


@admin.register(AuditEntry, site=site)
class AuditEntryAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "actor", "action", "target_kind", "target_id", "reason"]
    list_filter = ["action", "target_kind"]
    search_fields = ["reason", "target_label"]
