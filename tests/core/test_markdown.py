"""Officers' Markdown renders, and nothing typed into it runs in a reader's browser."""
import re

from chapter.core.markdown import render_markdown


def test_markdown_renders_emphasis_lists_and_links():
    html = str(render_markdown("**Dinner** at 6\n\n- CPIM\n- CSCP\n\n[Register](https://example.org/r)"))
    assert "<strong>Dinner</strong>" in html
    assert "<li>CPIM</li>" in html
    assert 'href="https://example.org/r"' in html and "noopener" in html


def test_scripts_handlers_and_javascript_links_are_removed():
    html = str(render_markdown('<script>alert(1)</script> <img src=x onerror=alert(1)> '
                               '[x](javascript:alert(1)) <a href="#" onclick="x()">y</a>'))
    # Raw HTML is shown as text (escaped), never as markup; the javascript: link loses its href.
    assert "<script" not in html and "<img" not in html and not re.search(r"<a[^>]*onclick", html)
    assert 'href="javascript' not in html
    assert "&lt;script&gt;" in html


def test_blank_text_renders_nothing():
    assert str(render_markdown(None)) == "" and str(render_markdown("  \n")) == ""
