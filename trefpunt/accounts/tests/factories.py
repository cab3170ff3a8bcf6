from __future__ import annotations

from typing import Any

import factory

from trefpunt.accounts.models import Organisation, User
from trefpunt.accounts.services import organisation_create, user_create

PASSWORD = "correct-horse-battery-42"


class UserFactory(factory.Factory[User]):
    """Users made through the real ``user_create`` service (with profile and verified email)."""

    class Meta:
        model = User

    email = factory.Sequence(lambda n: f"member{n}@example.org")
    password = PASSWORD
    display_name = factory.Sequence(lambda n: f"Member {n}")
    is_staff = False

    @classmethod
    def _create(cls, model_class: type[User], *args: Any, **kwargs: Any) -> User:
        return user_create(**kwargs)

    @classmethod
    def _build(cls, model_class: type[User], *args: Any, **kwargs: Any) -> User:
        raise NotImplementedError("use create(): users need their profile rows")


class OrganisationFactory(factory.Factory[Organisation]):
    class Meta:
        model = Organisation

    name = factory.Sequence(lambda n: f"Organisation {n}")
    user = factory.SubFactory(UserFactory)

    @classmethod
    def _create(cls, model_class: type[Organisation], *args: Any, **kwargs: Any) -> Organisation:
        return organisation_create(user=kwargs["user"], name=kwargs["name"])


def image_bytes(
    width: int = 64, height: int = 48, *, fmt: str = "PNG", colour: str = "teal", **save: Any
) -> bytes:
    """A real image file's bytes, e.g. ``image_bytes(600, 400, fmt="JPEG", exif=...)``."""
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, format=fmt, **save)
    return out.getvalue()


def image_upload(name: str = "picture.png", content: bytes | None = None) -> Any:
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content or image_bytes(), content_type="image/png")
