"""The documents in the repository: links that resolve, and every setting config.py reads written down."""
from __future__ import annotations

import re

from config import BASE_DIR

DOCUMENTS = [BASE_DIR / "README.md", *sorted((BASE_DIR / "docs").glob("*.md"))]


def test_docs_exist_and_the_readme_links_to_them():
    readme = (BASE_DIR / "README.md").read_text()
    for name in ("architecture.md", "domain.md", "operations.md"):
        assert (BASE_DIR / "docs" / name).is_file()
        assert f"docs/{name}" in readme


def test_every_relative_link_in_the_documents_points_at_a_file():
    for document in DOCUMENTS:
        for target in re.findall(r"\]\(([^)\s]+)\)", document.read_text()):
            if re.match(r"[a-z]+:", target) or target.startswith("#"):
                continue
            path = (document.parent / target.split("#")[0]).resolve()
            assert path.exists(), f"{document.name} links to {target}, which does not exist"


def test_every_setting_config_reads_is_in_the_operations_guide():
    names = set(re.findall(r"""(?:_env_int|_env_str|os\.environ\.get)\(\s*["']([A-Z_]+)["']""",
                           (BASE_DIR / "config.py").read_text()))
    assert {"DATABASE_URL", "SECRET_KEY", "LOGIN_MAX_FAILURES", "BACKUP_KEEP"} <= names
    guide = (BASE_DIR / "docs" / "operations.md").read_text()
    missing = sorted(name for name in names if f"`{name}`" not in guide)
    assert missing == [], f"docs/operations.md#configuration does not mention {missing}"
