"""Retries: one try and a bounded number more, each waiting twice as long as the one before (pure).

The one retry policy of fetching (http) and sending (mail); the caller sleeps, so that each can
wait its own way (on the event loop, or through an injected sleep)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Attempt:
    """One try of an operation: its number from 0, whether it is the last, and the backoff base."""

    number: int
    last: bool
    backoff: float

    def wait(self, asked: float | None = None) -> float:
        """Seconds to wait before the next attempt: what the other side asked for, else the
        backoff doubled for every attempt made before this one."""
        return asked if asked is not None else self.backoff * 2**self.number


def attempts(retries: int, backoff: float) -> Iterator[Attempt]:
    """The first attempt and up to `retries` more (none more when `retries` is negative)."""
    total = max(0, retries) + 1
    for number in range(total):
        yield Attempt(number=number, last=number == total - 1, backoff=backoff)
