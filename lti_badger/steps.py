"""How long work reports its progress, without knowing who watches: a service that loops over
many items takes a `Steps` and calls `start(total)`, then `advance()` per item. The CLI passes
a progress bar (`lti_badger.cli_progress`); everyone else passes nothing."""

from __future__ import annotations

from typing import Protocol


class Steps(Protocol):
    def start(self, total: int) -> None: ...
    def advance(self, n: int = 1) -> None: ...


class NoSteps:
    def start(self, total: int) -> None:
        pass

    def advance(self, n: int = 1) -> None:
        pass


NO_STEPS = NoSteps()
