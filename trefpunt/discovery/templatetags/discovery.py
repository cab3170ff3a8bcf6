from __future__ import annotations

from typing import Any

from django import template
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from .. import registry
from ..feeds import feed_title
from ..jsonld import script_tag, structured_data
from ..models import SearchDocument
from ..selectors_people import track_record_of

register = template.Library()


def person_document(profile: Any) -> SearchDocument | None:
    """The profile's public search document, read once per page: a profile has one exactly
    when it is listed (active and not hidden), and it carries the track record."""
    if not hasattr(profile, "_discovery_document"):
        profile._discovery_document = SearchDocument.objects.filter(
            kind="person", object_id=profile.pk
        ).first()
    return profile._discovery_document


@register.inclusion_tag("discovery/_profile_track.html", takes_context=True)
def profile_track(context: dict[str, Any], profile: Any) -> dict[str, Any]:
    """The track record on a profile page: from the listed profile's document (kept current
    by the modes' events), or computed now for a profile that is not listed."""
    user = context.get("user")
    document = person_document(profile)
    track = document.detail.get("track", {}) if document else track_record_of(profile).figures
    return {
        "profile": profile,
        "track": track,
        "has_track": any(track.values()),
        "is_owner": bool(user and user.is_authenticated and user.pk == profile.user_id),
    }


@register.filter
def is_listed(profile: Any) -> bool:
    """Whether search engines, the directory and share cards may show this profile."""
    return person_document(profile) is not None


@register.simple_tag
def feed_link(kind: str) -> SafeString:
    """``{% feed_link "contest" %}``: the ``<link>`` by which a reader or crawler finds the
    kind's Atom feed from its list page."""
    found = registry.kind_get(kind)
    if found is None or not found.in_feeds:
        return mark_safe("")
    return format_html(
        '<link rel="alternate" type="application/atom+xml" href="{}" title="{}">',
        reverse("discovery:feed", kwargs={"kind": kind}),
        feed_title(found),
    )


@register.simple_tag
def json_ld(kind: str, object_id: int) -> SafeString:
    """``{% json_ld "contest" contest.pk %}``: schema.org data of a public thing; nothing for a
    private one (it has no public document)."""
    return script_tag(structured_data(kind, int(object_id)))


@register.simple_tag
def person_json_ld(profile: Any) -> SafeString:
    document = person_document(profile)
    return script_tag(structured_data("person", profile.pk, document=document))
