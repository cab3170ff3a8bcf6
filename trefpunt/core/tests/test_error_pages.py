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


@pytest.mark.django_db
def test_opening_a_form_only_address_explains_and_links_to_its_page(client):
    """Logging in again after a session ran out opens the form's address with GET: that was
    a blank page (405); the API keeps its own answer."""
    from trefpunt.contests.tests.factories import make_user, published

    contest = published(make_user())
    client.force_login(make_user())

    for language, text, back in [
        ("en", "Nothing was sent", "Back to the page"),
        ("nl", "Er is niets verstuurd", "Terug naar de pagina"),
    ]:
        answer = client.get(f"/{language}/contests/{contest.pk}/enter/")
        html = answer.content.decode()
        assert answer.status_code == 405 and answer["Allow"] == "POST"
        assert text in html and 'class="site-header"' in html
        assert f'<a href="/{language}/contests/{contest.pk}/" role="button">{back}</a>' in html
    api = client.get("/api/v1/leases/1/answer")
    assert api.status_code == 405 and "Nothing was sent" not in api.content.decode()


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
