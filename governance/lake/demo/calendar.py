"""The demo calendar: 90 days ending at --as-of, hourly copies into bronze, and simulated arrivals."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import numpy as np

from governance.lake.demo import vocab

# Busy hours of the day for people-driven activity (transactions, app events, tickets).
HOUR_WEIGHTS = np.array(
    [
        1,
        0.6,
        0.4,
        0.3,
        0.3,
        0.5,
        1.2,
        2.5,
        3.5,
        4.2,
        4.6,
        5.0,
        5.6,
        5.4,
        4.8,
        4.6,
        4.8,
        5.2,
        5.8,
        6.0,
        5.4,
        4.2,
        3.0,
        1.8,
    ]
)
HOUR_WEIGHTS = HOUR_WEIGHTS / HOUR_WEIGHTS.sum()
US_PER_SECOND = 1_000_000


def default_as_of() -> datetime:
    return datetime.now(UTC).replace(minute=0, second=0, microsecond=0, tzinfo=None)


def parse_as_of(text: str) -> datetime:
    """ISO-8601; aware values are converted to UTC; the result is naive UTC."""
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value


def iso_z(value: datetime) -> str:
    return value.replace(microsecond=0).isoformat() + "Z"


@dataclass(frozen=True)
class Calendar:
    as_of: datetime  # naive UTC; nothing in the lake happens at or after it
    days: int = vocab.DAYS

    @property
    def last_day(self) -> date:
        midnight = datetime.combine(self.as_of.date(), datetime.min.time())
        return self.as_of.date() if self.as_of > midnight else self.as_of.date() - timedelta(days=1)

    @property
    def first_day(self) -> date:
        return self.last_day - timedelta(days=self.days - 1)

    def dates(self) -> list[date]:
        return [self.first_day + timedelta(days=i) for i in range(self.days)]

    def missing_day(self) -> date:
        return self.as_of.date() - timedelta(days=vocab.MISSING_DAY_OFFSET)

    def late_day(self) -> date:
        return self.as_of.date() - timedelta(days=vocab.LATE_DAY_OFFSET)

    def cap(self, moment: datetime) -> datetime:
        return min(moment, self.as_of)


def midnight_us(day: date) -> int:
    """Microseconds since the epoch at 00:00 UTC of `day` (numpy datetime64[us] arithmetic)."""
    return int(np.datetime64(day, "us").astype(np.int64))


def to_datetime(us: int) -> datetime:
    return datetime(1970, 1, 1) + timedelta(microseconds=int(us))


def daily_count(rng: np.random.Generator, mean: float) -> int:
    """Poisson around the mean, never zero, so every day has a partition."""
    return max(1, int(rng.poisson(mean)))


def busy_times(rng: np.random.Generator, day: date, n: int) -> np.ndarray:
    """n event times (µs since epoch) on `day`, following the busy-hour profile, sorted."""
    hours = rng.choice(24, size=n, p=HOUR_WEIGHTS)
    seconds = hours * 3600 + rng.integers(0, 3600, size=n)
    return np.sort(midnight_us(day) + seconds.astype(np.int64) * US_PER_SECOND)


def hourly_copy(rng: np.random.Generator, times_us: np.ndarray) -> np.ndarray:
    """When the hourly copy picked each row up: the next hour + that day's run delay (5-20 minutes)."""
    hour_us = 3600 * US_PER_SECOND
    delay = int(rng.integers(5, 21)) * 60 * US_PER_SECOND
    return (times_us // hour_us + 1) * hour_us + delay
