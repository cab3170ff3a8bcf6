"""schema.org structured data, built from the search index only: a thing without a public
document (private, draft, hidden, suspended) gets no structured data at all, whatever page
asks for it. Each kind's builder answers its nodes; every page adds a ``BreadcrumbList``."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from . import registry
from .models import SearchDocument


def _abs(path: str) -> str:
    return settings.SITE_URL + path


def _party(by: dict[str, str] | None) -> dict[str, Any] | None:
    if not by or not by.get("name"):
        return None
    if by.get("org"):
        url = reverse("accounts:org_detail", kwargs={"slug": by["org"]})
        return {"@type": "Organization", "name": by["name"], "url": _abs(url)}
    node: dict[str, Any] = {"@type": "Person", "name": by["name"]}
    if by.get("handle"):
        node["url"] = _abs(reverse("accounts:profile", kwargs={"handle": by["handle"]}))
    return node


def _contest(doc: SearchDocument, url: str) -> list[dict[str, Any]]:
    from trefpunt.contests.models import Contest, Entry

    nodes: list[dict[str, Any]] = [
        {
            "@type": "WebPage",
            "name": doc.title,
            "description": doc.detail.get("summary", ""),
            "url": url,
            "datePublished": doc.published_at.isoformat() if doc.published_at else None,
            "publisher": _party(doc.detail.get("by")),
            "inLanguage": (doc.languages.split() or [""])[0] or None,
        }
    ]
    # Winning entries of a public contest whose entries everybody sees, with their creator.
    winners = Entry.objects.filter(
        contest_id=doc.object_id,
        status=Entry.Status.WINNER,
        contest__visibility=Contest.Visibility.OPEN,
    ).select_related("entrant__profile")
    for entry in winners:
        profile = entry.entrant.profile
        nodes.append(
            {
                "@type": "CreativeWork",
                "name": entry.title,
                "url": _abs(entry.get_absolute_url()),
                "creator": {
                    "@type": "Person",
                    "name": profile.display_name,
                    "url": _abs(profile.get_absolute_url()),
                },
                "isPartOf": url,
            }
        )
    return nodes


def _posting(doc: SearchDocument, url: str) -> dict[str, Any]:
    """A JobPosting of remote contract work, applied for here (a batch's tasks, a job)."""
    return {
        "@type": "JobPosting",
        "title": doc.title,
        "description": doc.body or doc.title,
        "datePosted": doc.published_at.isoformat() if doc.published_at else None,
        "hiringOrganization": _party(doc.detail.get("by")),
        "employmentType": "CONTRACTOR",
        "jobLocationType": "TELECOMMUTE",
        "directApply": True,
        "url": url,
    }


def _batch(doc: SearchDocument, url: str) -> list[dict[str, Any]]:
    detail = doc.detail
    posting = _posting(doc, url)
    if detail.get("hourly"):
        posting["baseSalary"] = {
            "@type": "MonetaryAmount",
            "currency": doc.currency,
            "value": {
                "@type": "QuantitativeValue",
                "value": round(detail["hourly"] / 100, 2),
                "unitText": "HOUR",
            },
        }
    return [posting]


def _job(doc: SearchDocument, url: str) -> list[dict[str, Any]]:
    """A project's job: a fixed-price posting, its budget as a range of the whole price."""
    detail = doc.detail
    posting = _posting(doc, url)
    if detail.get("budget_max"):
        posting["baseSalary"] = {
            "@type": "MonetaryAmount",
            "currency": doc.currency,
            "minValue": round((detail.get("budget_min") or detail["budget_max"]) / 100, 2),
            "maxValue": round(detail["budget_max"] / 100, 2),
        }
    return [posting]


def _idea(doc: SearchDocument, url: str) -> list[dict[str, Any]]:
    return [
        {
            "@type": "CreativeWork",
            "name": doc.title,
            "text": doc.body,
            "url": url,
            "dateCreated": doc.published_at.isoformat() if doc.published_at else None,
            "creator": _party(doc.detail.get("by")),
        }
    ]


def _person(doc: SearchDocument, url: str) -> list[dict[str, Any]]:
    detail = doc.detail
    return [
        {
            "@type": "ProfilePage",
            "url": url,
            "mainEntity": {
                "@type": "Person",
                "name": doc.title,
                "alternateName": doc.names,
                "description": detail.get("headline", ""),
                "url": url,
                "knowsAbout": [name for _slug, name in detail.get("skills", [])],
                "knowsLanguage": doc.languages.split(),
                "homeLocation": detail.get("location") or None,
            },
        }
    ]


def _organisation(doc: SearchDocument, url: str) -> list[dict[str, Any]]:
    node: dict[str, Any] = {
        "@type": "Organization",
        "name": doc.title,
        "description": doc.body,
        "url": url,
    }
    if doc.detail.get("website"):
        node["sameAs"] = [doc.detail["website"]]
    return [node]


BUILDERS: dict[str, Callable[[SearchDocument, str], list[dict[str, Any]]]] = {
    "contest": _contest,
    "batch": _batch,
    "job": _job,
    "idea": _idea,
    "person": _person,
    "organisation": _organisation,
}
LISTS: dict[str, tuple[str, Callable[[], str]]] = {
    "contest": ("contests:list", lambda: _("Contests")),
    "batch": ("microtasks:batch_list", lambda: _("Microtasks")),
    "job": ("projects:list", lambda: _("Projects")),
    "idea": ("ideas:list", lambda: _("Idea calls")),
    "ideacall": ("ideas:list", lambda: _("Idea calls")),
    "person": ("discovery:people", lambda: _("People")),
}


def breadcrumbs(kind: str, title: str, url: str) -> dict[str, Any]:
    items = [{"name": "Trefpunt", "item": _abs(reverse("home"))}]
    if kind in LISTS:
        url_name, label = LISTS[kind]
        items.append({"name": label(), "item": _abs(reverse(url_name))})
    items.append({"name": title, "item": url})
    return {
        "@type": "BreadcrumbList",
        "itemListElement": [
            {"@type": "ListItem", "position": i, **item} for i, item in enumerate(items, start=1)
        ],
    }


def _clean(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items() if v not in (None, "", [])}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


_UNREAD: Any = object()


def structured_data(kind: str, object_id: int, *, document: Any = _UNREAD) -> dict[str, Any] | None:
    """The JSON-LD graph of one public thing, or ``None`` when it has no public document
    (pass ``document`` when the page already read it)."""
    doc = (
        SearchDocument.objects.filter(kind=kind, object_id=object_id).first()
        if document is _UNREAD
        else document
    )
    search_kind = registry.kind_get(kind)
    if doc is None or search_kind is None:
        return None
    url = _abs(search_kind.url(doc.url_key))
    builder = BUILDERS.get(kind)
    nodes = builder(doc, url) if builder else []
    nodes.append(breadcrumbs(kind, doc.title, url))
    return dict(_clean({"@context": "https://schema.org", "@graph": nodes}))


def script_tag(data: dict[str, Any] | None) -> SafeString:
    if data is None:
        return mark_safe("")
    text = json.dumps(data, ensure_ascii=False)
    for raw, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026")):
        text = text.replace(raw, escaped)
    # JSON with <, > and & escaped cannot close the script element.
    return mark_safe(f'<script type="application/ld+json">{text}</script>')  # noqa: S308
