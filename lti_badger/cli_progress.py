"""Progress of long CLI work (source sync, verifying many files, key rotation...): a bar when
stdout is a terminal; otherwise quiet, with one log line on stderr when the work starts and one
when it ends (count and seconds), in the format of the tool's logs (JSON unless stderr is a
terminal), which is what cron mail and log collectors want."""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TextIO, TypeVar

import click

from .logging import pick_formatter

T = TypeVar("T")


def terminal_stream() -> TextIO | None:
    """stdout when it is a terminal, else None."""
    stream = sys.stdout
    return stream if stream.isatty() else None


def _log_line(msg: str, **fields) -> None:
    stderr = sys.stderr
    record = logging.makeLogRecord({"name": __name__, "levelno": logging.INFO, "levelname": "INFO",
                                    "msg": msg, **fields})
    click.echo(pick_formatter("auto", stderr).format(record), err=True)


class CliSteps:
    """A `lti_badger.steps.Steps` for the command line."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.total = self.done = 0
        self.started: float | None = None
        self.bar = None

    def start(self, total: int) -> None:
        self.total, self.started = total, time.monotonic()
        stream = terminal_stream()
        if stream is not None:
            self.bar = click.progressbar(length=total, label=self.label, file=stream, show_pos=True,
                                          show_percent=True)
            self.bar.__enter__()
        else:
            _log_line(f"{self.label}: started", total=total)

    def advance(self, n: int = 1) -> None:
        self.done += n
        if self.bar is not None:
            self.bar.update(n)

    def finish(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None
        elif self.started is not None:
            _log_line(f"{self.label}: done", done=self.done, total=self.total,
                      seconds=round(time.monotonic() - self.started, 3))


@contextmanager
def progress(label: str) -> Iterator[CliSteps]:
    """Steps to hand to a service; the bar is closed (or the end logged) however it ends."""
    steps = CliSteps(label)
    try:
        yield steps
    finally:
        steps.finish()


def track(items: Iterable[T], label: str, total: int) -> Iterator[T]:
    """Iterate `items` in the command itself, with the same bar or log lines."""
    with progress(label) as steps:
        steps.start(total)
        for item in items:
            yield item
            steps.advance()
