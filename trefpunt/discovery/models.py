"""The search index: one row per public thing (a contest, an idea call, an idea, an open batch,
a person, an organisation), written by ``indexing`` in the transaction that changed the thing.

The text index itself belongs to the database and is created by the migrations next to this
table: on PostgreSQL a generated ``tsvector`` column (English, Dutch and plain configurations)
with a GIN index, on SQLite an FTS5 table kept in step by triggers. Django never writes either;
it writes ``SearchDocument`` rows, and the database keeps its index of them current in the same
statement. See ``backends.py``.

Only public things have a row. The rule that decides it is each kind's ``public`` queryset in its
``<app>/search.py`` registration; a thing that stops being public loses its row in the same
transaction, so nothing here can leak what it does not hold.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class SearchDocument(models.Model):
    kind = models.CharField(max_length=20)
    object_id = models.BigIntegerField()
    title = models.CharField(max_length=300)
    # Summary and description (Markdown as plain text), cut to ``indexing.BODY_MAX``.
    body = models.TextField(blank=True)
    # Who posted or made it: organisation, client, author. Searchable like the title.
    names = models.CharField(max_length=400, blank=True)
    # Category and skill names in every language, so "logo" and "ontwerp" both find them.
    keywords = models.CharField(max_length=600, blank=True)
    # Dutch stems of the text, for SQLite's FTS5, whose stemmer knows only English.
    stems = models.TextField(blank=True)
    # Facets.
    category = models.CharField(max_length=50, blank=True)
    # " slug1 slug2 ": every category or skill, for filtering on any of them.
    tags = models.CharField(max_length=400, blank=True)
    status = models.CharField(max_length=20, blank=True)
    # " nl en ": the languages the thing is written in, or a person speaks.
    languages = models.CharField(max_length=40, blank=True)
    amount = models.BigIntegerField(null=True, blank=True)
    band = models.PositiveSmallIntegerField(default=0)
    currency = models.CharField(max_length=3, blank=True)
    # What the kind needs to build the link (an id, a handle, a slug), and what a result shows
    # beyond its text (hourly pay, deadline, the poster's link, a person's track record).
    url_key = models.CharField(max_length=80)
    detail = models.JSONField(default=dict, blank=True)
    # A number to sort by when there is no text to rank (a person's track record, a prize).
    score = models.IntegerField(default=0)
    published_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["kind", "object_id"], name="searchdoc_kind_object"),
        ]
        indexes = [
            models.Index(fields=["kind", "-published_at"], name="searchdoc_kind_pub"),
            models.Index(fields=["kind", "-score"], name="searchdoc_kind_score"),
            # Browsing without words takes its candidate pool newest first
            # (``selectors._candidates``): these serve that order with and without a kind.
            # (Plain DESC: SQLite cannot index NULLS LAST.)
            models.Index(fields=["-published_at", "-id"], name="searchdoc_newest"),
            models.Index(fields=["kind", "-published_at", "-id"], name="searchdoc_kind_newest"),
        ]

    def __str__(self) -> str:
        return f"{self.kind}:{self.object_id} {self.title}"


class SearchWord(models.Model):
    """Words seen in titles, names and keywords: the candidates for "did you mean". A word
    stays after its thing goes private, so a suggestion is only offered once a search for it
    finds public results (``selectors.suggestion``)."""

    word = models.CharField(max_length=40, unique=True)
    first = models.CharField(max_length=1)
    length = models.PositiveSmallIntegerField()

    class Meta:
        indexes = [models.Index(fields=["first", "length"], name="searchword_first_len")]

    def __str__(self) -> str:
        return self.word


class ProfileListing(models.Model):
    """What a person lets the platform show about them beyond their own profile page. No row
    means the defaults: listed in search and the directory, work statistics not shown."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="listing"
    )
    listed = models.BooleanField(
        _("show my profile in search, the talent directory and to search engines"), default=True
    )
    shows_work_stats = models.BooleanField(
        _("show my microtask approval rate and gold accuracy on my profile"), default=False
    )
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"listing of user {self.user_id}"
