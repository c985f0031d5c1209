"""Templates keep to what the Content-Security-Policy allows and to the one palette in static/css/app.css."""
import re
from pathlib import Path

import pytest

# Mail is not served under the Content-Security-Policy (and HTML mail needs inline styles): pages only.
TEMPLATES = sorted(p for p in (Path(__file__).resolve().parents[2] / "templates").rglob("*.html") if p.parent.name != "email")
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I)


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: str(p.relative_to(p.parents[1])))
def test_a_template_has_no_inline_script_and_no_style_attribute(template):
    text = template.read_text(encoding="utf-8")
    assert not INLINE_SCRIPT.search(text), "inline <script>: put it in static/js/"
    assert not re.search(r"\sstyle=", text), "style= attribute: put it in static/css/app.css"
    assert not re.search(r"\son[a-z]+=\"", text), "inline event handler: put it in static/js/"


def test_every_page_loads_the_shared_script_that_focuses_the_error_summary():
    base = (Path(__file__).resolve().parents[2] / "templates" / "base.html").read_text(encoding="utf-8")
    assert "js/app.js" in base
