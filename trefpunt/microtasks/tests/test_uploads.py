import json

import pytest

from trefpunt.core.exceptions import ValidationFailed
from trefpunt.microtasks.formspec import form_spec_clean
from trefpunt.microtasks.models import Item
from trefpunt.microtasks.rendering import display_spec_clean, item_render
from trefpunt.microtasks.services import items_upload
from trefpunt.microtasks.tests.factories import SENTIMENT_FORM, BatchFactory
from trefpunt.microtasks.uploads import items_parse

FORM = form_spec_clean(SENTIMENT_FORM)
DISPLAY = display_spec_clean(
    [
        {"column": "text"},
        {"column": "photo", "widget": "image"},
        {"column": "url", "widget": "link"},
    ]
)


def parse(content: str, filename: str = "items.csv"):
    return items_parse(content=content.encode(), filename=filename, display=DISPLAY, form=FORM)


def test_items_parse_reads_csv_with_gold_columns():
    parsed = parse(
        "text,photo,url,_gold.sentiment\n"
        "great,https://img.example/1.jpg,https://shop.example/1,pos\n"
        '"multi\nline",http://img.example/2.jpg,https://shop.example/2,\n'
    )
    assert [i.data["text"] for i in parsed.items] == ["great", "multi\nline"]
    assert [i.gold_answer for i in parsed.items] == [{"sentiment": "pos"}, None]
    assert parsed.columns == ["text", "photo", "url"]


def test_items_parse_csv_missing_column_is_named():
    with pytest.raises(ValidationFailed) as exc:
        parse("text,photo\nhello,https://img.example/1.jpg\n")
    assert exc.value.fields["file"] == ["line 1: missing column “url”"]
    assert "nothing was imported" in exc.value.message


def test_items_parse_reports_each_bad_line_by_number():
    with pytest.raises(ValidationFailed) as exc:
        parse(
            "text,photo,url\n"
            "ok,https://a.example/x.png,https://a.example\n"
            ",https://a.example/x.png,https://a.example\n"
            "ok,javascript:alert(1),https://a.example\n"
            "ok,https://a.example/x.png\n"
        )
    assert exc.value.fields["file"] == [
        "line 3: missing field “text”",
        "line 4: field “photo” must be an http:// or https:// URL",
        "line 5: expected 3 values, found 2",
    ]


def test_items_parse_jsonl_broken_line_is_named():
    good = json.dumps({"text": "a", "photo": "https://x.example/a.png", "url": "https://x.example"})
    with pytest.raises(ValidationFailed) as exc:
        parse(f'{good}\n{{"text": "b",\n{good}\n', filename="items.jsonl")
    assert exc.value.fields["file"][0].startswith("line 2: not valid JSON")


def test_items_parse_jsonl_missing_field_and_bad_gold():
    line = {
        "photo": "https://x.example/a.png",
        "url": "https://x.example",
        "_gold": {"sentiment": "meh"},
    }
    with pytest.raises(ValidationFailed) as exc:
        parse(json.dumps(line) + "\n", filename="items.jsonl")
    assert exc.value.fields["file"] == [
        "line 1: missing field “text”",
        "line 1: gold answer for “sentiment”: “meh” is not one of the choices (pos, neg, neu).",
    ]


@pytest.mark.parametrize("content", ["", "   \n\n", "\ufeff"])
def test_items_parse_empty_file(content):
    with pytest.raises(ValidationFailed) as exc:
        parse(content)
    assert exc.value.fields["file"] == ["The file is empty."]


def test_items_parse_header_only_has_no_items():
    with pytest.raises(ValidationFailed) as exc:
        parse("text,photo,url\n")
    assert "no items" in exc.value.fields["file"][0]


def test_items_parse_refuses_large_files(settings):
    settings.MICROTASK_MAX_UPLOAD_BYTES = 100
    with pytest.raises(ValidationFailed) as exc:
        parse("text,photo,url\n" + "x,https://a.example/a,https://a.example\n" * 5)
    assert "larger than" in exc.value.fields["file"][0]


def test_items_parse_not_utf8_names_the_line():
    with pytest.raises(ValidationFailed) as exc:
        items_parse(
            content=b"text,photo,url\nok,https://a.example/a,https://a.example\n\xff\xfe,x,y\n",
            filename="i.csv",
            display=DISPLAY,
            form=FORM,
        )
    assert exc.value.fields["file"][0].startswith("line 3: the file is not UTF-8")


@pytest.mark.django_db
def test_items_upload_imports_nothing_from_a_file_with_errors(user):
    batch = BatchFactory.create(user=user)
    content = b"text\nfine\n\nalso fine\n" + b"one,two\n" + b"last\n"
    with pytest.raises(ValidationFailed) as exc:
        items_upload(batch_id=batch.pk, user=user, content=content, filename="x.csv")
    assert exc.value.fields["file"] == ["line 5: expected 1 values, found 2"]
    assert Item.objects.filter(batch=batch).count() == 0


@pytest.mark.django_db
def test_items_upload_appends_items_in_order(user):
    batch = BatchFactory.create(user=user)
    assert (
        items_upload(batch_id=batch.pk, user=user, content=b"text\na\nb\n", filename="x.csv") == 2
    )
    lines = b'{"text": "c", "extra": 1}\n'
    assert items_upload(batch_id=batch.pk, user=user, content=lines, filename="x.jsonl") == 1
    items = list(Item.objects.filter(batch=batch).order_by("position"))
    assert [(i.position, i.data["text"], i.answers_target) for i in items] == [
        (1, "a", 3),
        (2, "b", 3),
        (3, "c", 3),
    ]
    batch.refresh_from_db()
    assert batch.item_columns == ["text", "extra"]


def test_item_render_escapes_everything():
    html = item_render(
        DISPLAY,
        {
            "text": "<script>alert(1)</script>\nline two",
            "photo": 'https://a.example/x.png" onerror="alert(1)',
            "url": "javascript:alert(1)",
        },
    )
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;<br>line two" in html
    assert 'onerror="' not in html
    assert "javascript:" not in html
    assert "Link unavailable." in html
