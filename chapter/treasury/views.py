"""Treasury pages (filled in below)."""
from chapter.treasury import bp  # noqa: F401
