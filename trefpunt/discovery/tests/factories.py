"""Worlds for the discovery tests: public things next to private twins of every kind, built
through the real services (so the index is kept current by the same hooks as in production)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from trefpunt.accounts.models import Organisation, User
from trefpunt.accounts.services import profile_update
from trefpunt.contests.models import Contest
from trefpunt.contests.tests.factories import draft, make_organisation, make_user, published
from trefpunt.discovery.models import ProfileListing
from trefpunt.ideas.models import Idea, IdeaCall
from trefpunt.ideas.tests.factories import draft_call, open_call, post
from trefpunt.microtasks.models import Batch
from trefpunt.microtasks.tests.factories import BatchFactory, published_batch


def person(display_name: str, *, skills: str = "", languages: str = "nl en", **kw: Any) -> User:
    user = make_user(display_name=display_name)
    profile = user.profile
    profile_update(
        profile=profile,
        handle=kw.pop("handle", profile.handle),
        display_name=display_name,
        headline=kw.pop("headline", ""),
        location=kw.pop("location", ""),
        languages=languages,
        skills=skills,
    )
    user.refresh_from_db()
    return user


def hide(user: User) -> None:
    ProfileListing.objects.update_or_create(user=user, defaults={"listed": False})


def suspend(user: User) -> None:
    user.is_active = False
    user.save(update_fields=["is_active"])


@dataclass
class World:
    bakery: Organisation
    client: User
    public_contest: Contest
    private_contest: Contest
    draft_contest: Contest
    public_call: IdeaCall
    org_call: IdeaCall
    invited_call: IdeaCall
    draft_call: IdeaCall
    public_idea: Idea
    org_idea: Idea
    invited_idea: Idea
    open_batch: Batch
    draft_batch: Batch
    paused_batch: Batch
    designer: User
    hidden: User
    suspended: User

    def private_titles(self) -> list[str]:
        return [
            self.private_contest.title,
            self.draft_contest.title,
            self.org_call.title,
            self.invited_call.title,
            self.draft_call.title,
            self.org_idea.title,
            self.invited_idea.title,
            self.draft_batch.title,
            self.paused_batch.title,
            self.hidden.profile.display_name,
            self.suspended.profile.display_name,
        ]

    def public_titles(self) -> list[str]:
        return [
            self.public_contest.title,
            self.public_call.title,
            self.public_idea.title,
            self.open_batch.title,
            self.designer.profile.display_name,
        ]


def world() -> World:
    from trefpunt.microtasks.services import batch_pause

    client = person("Anna Bakker")
    bakery = make_organisation(client)
    bakery.name = "Bakkerij Van der Meulen"
    bakery.save()
    public_contest = published(
        client,
        organisation=bakery,
        title="Logo ontwerp voor onze bakkerij",
        summary="Een warm en eenvoudig logo voor de winkel.",
    )
    private_contest = published(
        client,
        title="Secret logo zebrafinch",
        summary="Only invited designers see this.",
        is_private=True,
        nda_text="Do not tell anyone about quagmire recipes.",
    )
    draft_contest = draft(client, title="Unpublished logo walrusgrain")
    public_call = open_call(client, title="Ideas for greener shops")
    org_call = open_call(
        client,
        title="Members only lemurcall",
        organisation=bakery.slug,
        audience=IdeaCall.Audience.ORGANISATION,
    )
    invited_call = open_call(
        client, title="Invited only ibexcall", audience=IdeaCall.Audience.INVITED
    )
    draft_c = draft_call(client, title="Draft call okapinote")
    member = make_user()
    public_idea = post(public_call, member, title="Refill station for oat milk")
    from trefpunt.accounts.services import invitation_accept, organisation_invite
    from trefpunt.ideas.services import call_invite

    _inv, token = organisation_invite(
        organisation=bakery, inviter=client, email=member.email, role="member"
    )
    invitation_accept(token=token, user=member)
    org_idea = post(org_call, member, title="Hidden idea narwhalbread")
    call_invite(call_id=invited_call.pk, user=client, who=member.email)
    invited_idea = post(invited_call, member, title="Invited idea quokkacake")
    open_batch = published_batch(
        owner=client,
        title="Label bakery reviews",
        instructions="Read the customer review and choose the sentiment of the croissant.",
    )
    draft_batch = BatchFactory.create(user=client, title="Draft batch axolotltask", items=2)
    paused_batch = published_batch(owner=client, title="Paused batch tapirtask")
    batch_pause(batch_id=paused_batch.pk, user=client)
    designer = person(
        "Daan Designer", skills="Logo design, Illustration", headline="Logos that last"
    )
    hidden = person("Hidden Heron", skills="Logo design")
    hide(hidden)
    suspended = person("Suspended Stoat", skills="Logo design")
    suspend(suspended)
    return World(
        bakery=bakery,
        client=client,
        public_contest=public_contest,
        private_contest=private_contest,
        draft_contest=draft_contest,
        public_call=public_call,
        org_call=org_call,
        invited_call=invited_call,
        draft_call=draft_c,
        public_idea=public_idea,
        org_idea=org_idea,
        invited_idea=invited_idea,
        open_batch=open_batch,
        draft_batch=draft_batch,
        paused_batch=paused_batch,
        designer=designer,
        hidden=hidden,
        suspended=suspended,
    )
