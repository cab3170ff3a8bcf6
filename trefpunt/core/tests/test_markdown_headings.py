"""User Markdown's headings continue the page's outline: the top level becomes h3 (under the
page's h1 and the section's h2) and no level is skipped."""

from trefpunt.core.markdown import markdown_render


def test_top_heading_becomes_h3_and_levels_follow() -> None:
    html = markdown_render("## Who we are\n\ntext\n\n### Detail\n\nmore")
    assert "<h3>Who we are</h3>" in html
    assert "<h4>Detail</h4>" in html


def test_a_single_hash_and_a_deep_heading_both_start_at_h3() -> None:
    assert "<h3>Title</h3>" in markdown_render("# Title")
    assert "<h3>Deep</h3>" in markdown_render("#### Deep")
    assert "<h6>" in markdown_render("# A\n\n###### B")
