"""A view of the test SMTP server's mail that first delivers what is queued (the outbox's jobs)."""
from __future__ import annotations

from tests.conftest import run_jobs


class Mailbox:
    """Reads run the queued mail jobs, then look at what the SMTP server received."""

    def __init__(self, received: list):
        self._received = received

    def _delivered(self) -> list:
        run_jobs()
        return self._received

    def __iter__(self):
        return iter(self._delivered())

    def __len__(self) -> int:
        return len(self._delivered())

    def __getitem__(self, index):
        return self._delivered()[index]

    def __eq__(self, other) -> bool:
        return self._delivered() == other

    def clear(self) -> None:
        self._delivered().clear()
