"""User Markdown: its headings continue the page's outline (the top level becomes h3, under
the page's h1 and the section's h2, and no level is skipped); as plain text its blocks stay
apart."""

from trefpunt.core.markdown import markdown_render, markdown_text, one_line


def test_top_heading_becomes_h3_and_levels_follow() -> None:
    html = markdown_render("## Who we are\n\ntext\n\n### Detail\n\nmore")
    assert "<h3>Who we are</h3>" in html
    assert "<h4>Detail</h4>" in html


def test_a_single_hash_and_a_deep_heading_both_start_at_h3() -> None:
    assert "<h3>Title</h3>" in markdown_render("# Title")
    assert "<h3>Deep</h3>" in markdown_render("#### Deep")
    assert "<h6>" in markdown_render("# A\n\n###### B")


def test_plain_text_keeps_list_items_and_headings_apart_and_paragraph_lines_together():
    """A brief's list ran together in descriptions and search snippets: 'Instagram. three
    sketches first the final logo as SVG and PNG business cards'."""
    brief = (
        "## Brief\nWe need a logo that works\non Instagram.\n\n"
        "- three sketches first\n- the final logo as SVG and PNG\n- business cards"
    )
    assert markdown_text(brief) == (
        "Brief · We need a logo that works on Instagram. three sketches first"
        " · the final logo as SVG and PNG · business cards"
    )
    assert one_line("Logo designer\nSimple marks.\n\nBased in Gent") == (
        "Logo designer · Simple marks. Based in Gent"
    )
