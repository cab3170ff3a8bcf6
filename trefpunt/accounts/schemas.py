from ninja import Schema


class OrganisationOut(Schema):
    slug: str
    name: str
    role: str


class MeOut(Schema):
    id: int
    email: str
    handle: str
    display_name: str
    headline: str
    profile_url: str
    is_staff: bool
    organisations: list[OrganisationOut]
