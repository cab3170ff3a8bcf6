"""Where projects hold a person's data (``privacy.registry``): job posts, proposals,
contracts, deliveries, disputes and reviews are work others rely on — they stay, shown as
by a former member; the files go into the export."""

from __future__ import annotations

from trefpunt.privacy.registry import KEEP, PersonalData, personal_data_register


def register() -> None:
    p = PersonalData
    personal_data_register(
        p("projects.Job", "created_by", erase=KEEP),
        p("projects.JobAttachment", "job__created_by", files=["file"], erase=KEEP),
        p("projects.JobInvitation", "user", erase=KEEP),
        p("projects.JobInvitation", "invited_by", erase=KEEP),
        p("projects.Proposal", "freelancer", erase=KEEP),
        p("projects.Contract", "client", erase=KEEP),
        p("projects.Contract", "freelancer", erase=KEEP),
        p("projects.Contract", "end_requested_by", export=False, erase=KEEP),
        p(
            "projects.DeliveryFile",
            "delivery__milestone__contract__freelancer",
            files=["file"],
            erase=KEEP,
        ),
        p("projects.Dispute", "opened_by", erase=KEEP),
        p("projects.Dispute", "offer_by", export=False, erase=KEEP),
        p("projects.Dispute", "decided_by", export=False, erase=KEEP, why="staff"),
        p("projects.Review", "author", erase=KEEP),
        p("projects.Review", "subject", erase=KEEP),
    )
