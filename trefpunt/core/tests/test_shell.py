import pytest


@pytest.mark.browser
def test_home_page_renders_in_a_real_browser(page):
    page.goto("/en/")
    assert page.title().startswith("Trefpunt")
    assert page.get_by_role("button", name="Sign up").is_visible()
