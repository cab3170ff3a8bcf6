import pytest


@pytest.mark.django_db
def test_unknown_page_answers_404_with_our_layout_in_the_readers_language(client, settings):
    settings.DEBUG = False

    english = client.get("/en/no-such-page/")
    dutch = client.get("/nl/no-such-page/")

    assert english.status_code == 404
    assert "This page is not here" in english.content.decode()
    assert 'class="site-header"' in english.content.decode()
    assert dutch.status_code == 404
    assert "Deze pagina is er niet" in dutch.content.decode()
    assert 'rel="canonical"' not in english.content.decode()  # no address to keep


def test_server_error_page_renders_without_a_request():
    from django.template.loader import render_to_string

    html = render_to_string("500.html")

    assert "Something went wrong on our side" in html


@pytest.mark.django_db
def test_money_filter_shows_nothing_for_an_unset_value():
    from trefpunt.core.templatetags.core import money

    assert money("") == ""
    assert money(None) == ""
    assert money(1250) == "€\u00a012.50"


@pytest.mark.django_db
def test_api_docs_use_the_bundled_swagger_ui(client):
    page = client.get("/api/v1/docs").content.decode()

    assert "/static/ninja/" in page
    assert "cdn." not in page
