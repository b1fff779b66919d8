"""Raw bronze data, one ingest day at a time, generated with numpy (vectorised, bounded memory).

Every day of every dataset draws from its own random stream, seeded by (seed, dataset, day), so the
same seed and --as-of always give the same bytes. Defects are injected here at the rates of
`vocab.RATES`; each batch reports exactly how many it carries.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from governance.lake.demo import vocab
from governance.lake.demo.calendar import (
    US_PER_SECOND,
    Calendar,
    busy_times,
    daily_count,
    hourly_copy,
    midnight_us,
    to_datetime,
)
from governance.lake.demo.strings import concat, padded, pick, uuids, where

STREAMS = {"customers": 1, "crm": 2, "transactions": 3, "events": 4, "tickets": 5, "telemetry": 6, "plan": 7}
TS = pa.timestamp("us")


@dataclass
class DayBatch:
    day: date
    table: pa.Table
    arrived_at: datetime
    counts: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Sizes:
    customers: int
    transactions_per_day: float
    events_per_day: float
    tickets_per_day: float
    devices: int

    @classmethod
    def for_scale(cls, scale: float) -> Sizes:
        return cls(
            customers=max(200, round(vocab.CUSTOMERS * scale)),
            transactions_per_day=vocab.TRANSACTIONS * scale / vocab.DAYS,
            events_per_day=vocab.MOBILE_EVENTS * scale / vocab.DAYS,
            tickets_per_day=vocab.TICKETS_PER_DAY * scale,
            devices=max(vocab.MIN_DEVICES, round(vocab.DEVICES * scale)),
        )


class Generator:
    def __init__(self, calendar: Calendar, scale: float, seed: int) -> None:
        self.cal = calendar
        self.seed = seed
        self.sizes = Sizes.for_scale(scale)
        self.customers = Customers(self.rng("customers", 0), self.sizes.customers, calendar)

    def rng(self, stream: str, day: date | int) -> np.random.Generator:
        ordinal = day if isinstance(day, int) else day.toordinal()
        return np.random.default_rng([self.seed, STREAMS[stream], ordinal])

    def _ingest(self, rng: np.random.Generator, day: date, times_us: np.ndarray, late: bool) -> np.ndarray:
        ingested = hourly_copy(rng, times_us)
        if late:  # the copies of this day were stuck until the afternoon
            catch_up = midnight_us(day) + int(vocab.LATE_ARRIVAL_HOUR * 3600) * US_PER_SECOND
            ingested = np.maximum(ingested, catch_up)
        return ingested

    def _visible(self, ingested_us: np.ndarray) -> np.ndarray:
        as_of_us = int(np.datetime64(self.cal.as_of, "us").astype(np.int64))
        return ingested_us <= as_of_us

    # ------------------------------------------------------------------ bronze.crm_customers
    def crm_customers(self) -> Iterator[DayBatch]:
        c = self.customers
        first = self.cal.first_day
        for day in self.cal.dates():
            rng = self.rng("crm", day)
            lo, hi = c.signed_up_between(day, day + timedelta(days=1))
            new = np.arange(lo, hi)
            times = c.signup_us[new]
            if day == first:  # the initial load brings every earlier customer along
                old = np.arange(0, lo)
                new = np.concatenate([old, new])
                times = np.concatenate([np.full(len(old), midnight_us(day)), times])
            existing = lo
            n_upd = int(rng.binomial(existing, vocab.CRM_DAILY_UPDATE_RATE)) if existing else 0
            upd = np.sort(rng.choice(existing, size=n_upd, replace=False)) if n_upd else np.array([], int)
            upd_times = busy_times(rng, day, n_upd)
            idx = np.concatenate([new, upd]).astype(np.int64)
            times = np.concatenate([times, upd_times])
            ingested = self._ingest(rng, day, times, late=False)
            keep = self._visible(ingested)
            idx, times, ingested = idx[keep], times[keep], ingested[keep]
            c.landed[idx] = True
            n_new = int(keep[: len(new)].sum())
            region = c.region[idx].copy()
            moved = np.arange(len(idx)) >= n_new
            region[moved] = rng.integers(0, len(vocab.REGIONS), size=int(moved.sum()))
            updated = times.copy()
            initial = idx < c.signed_up_between(first, first)[0]
            updated[initial] = c.last_change_us[idx[initial]]
            table = pa.table(
                {
                    "source_customer_id": c.source_id(idx),
                    "full_name": c.full_name(idx),
                    "email": c.bronze_email(idx),
                    "phone": c.phone(idx),
                    "signup_date": c.signup_text(idx),
                    "country": pick(vocab.COUNTRIES, region),
                    "region": pick([r.title() for r in vocab.REGIONS], region),
                    "updated_at": pa.array(updated, TS),
                    "ingest_date": pa.array(np.full(len(idx), day), pa.date32()),
                    "_ingested_at": pa.array(ingested, TS),
                }
            )
            if len(idx):
                yield DayBatch(day, table, to_datetime(int(ingested.min())), {"rows": len(idx)})

    # ------------------------------------------------------------------ bronze.sqlserver_transactions
    def transactions(self) -> Iterator[DayBatch]:
        c = self.customers
        days = self.cal.dates()
        plan = self.rng("plan", 0)
        counts = [daily_count(plan, self.sizes.transactions_per_day * _weekday(d)) for d in days]
        first_id = 100_000_000 + np.concatenate([[0], np.cumsum(counts)[:-1]])
        rates = vocab.RATES
        for day, n, id0 in zip(days, counts, first_id, strict=True):
            rng = self.rng("transactions", day)
            times = busy_times(rng, day, n)
            ids = np.int64(id0) + np.arange(n)
            eligible = max(1, c.signed_up_between(self.cal.first_day, day + timedelta(days=1))[1])
            cust = (eligible * rng.random(n) ** 0.7).astype(np.int64)  # long-standing customers buy more
            refs = c.source_id(cust)
            u = rng.random(n)
            null_ref = u < rates["null_customer_ids"]
            orphan = (u >= rates["null_customer_ids"]) & (
                u < rates["null_customer_ids"] + rates["orphan_customer_ids"]
            )
            orphan_ids = padded("CRM-", 9_000_000 + rng.integers(0, 999_999, size=n), 7)
            refs = where(orphan, orphan_ids, refs)
            refs = pc.if_else(pa.array(null_ref), pa.scalar(None, pa.string()), refs)
            amount = np.clip(np.round(rng.lognormal(3.6, 1.0, size=n), 2), 0.5, 5000.0)
            v = rng.random(n)
            negative = v < rates["negative_amounts"]
            extreme = (v >= rates["negative_amounts"]) & (
                v < rates["negative_amounts"] + rates["extreme_amounts"]
            )
            amount = np.where(negative, -amount, amount)
            amount = np.where(extreme, np.round(rng.uniform(100_000.01, 900_000.0, size=n), 2), amount)
            pay_idx = rng.choice(len(vocab.PAYMENT_METHODS), size=n, p=vocab.PAYMENT_WEIGHTS)
            unknown = rng.random(n) < rates["unknown_payment_methods"]
            pay = where(
                unknown,
                pick(
                    vocab.UNKNOWN_PAYMENT_METHODS, rng.integers(0, len(vocab.UNKNOWN_PAYMENT_METHODS), size=n)
                ),
                pick(vocab.PAYMENT_METHODS, pay_idx),
            )
            region = np.where(
                rng.random(n) < 0.8, c.region[cust], rng.integers(0, len(vocab.REGIONS), size=n)
            )
            product = (vocab.PRODUCTS * rng.random(n) ** 2).astype(np.int64) + 1
            table = pa.table(
                {
                    "txn_id": padded("T", ids, 12),
                    "customer_ref": refs,
                    "product_code": padded("P-", product, 5),
                    "amount": pa.array(amount, pa.float64()),
                    "currency": pa.array(np.full(n, "GBP")),
                    "txn_ts": pa.array(times, TS),
                    "payment_type": pc.utf8_upper(pay),
                    "store_region": pick([r.title() for r in vocab.REGIONS], region),
                }
            )
            dup = np.flatnonzero(rng.random(n) < rates["duplicate_transactions"])
            if len(dup):  # the source re-sent these rows in the same copy window
                table = pa.concat_tables([table, table.take(pa.array(dup))])
                times = np.concatenate([times, times[dup]])
            ingested = self._ingest(rng, day, times, late=day == self.cal.late_day())
            keep = self._visible(ingested)
            table = table.append_column("ingest_date", pa.array(np.full(len(times), day), pa.date32()))
            table = table.append_column("_ingested_at", pa.array(ingested, TS)).filter(pa.array(keep))
            if not table.num_rows:
                continue
            landed = c.source_id(np.flatnonzero(c.landed))
            yield DayBatch(
                day, table, to_datetime(int(ingested[keep].min())), _transaction_defects(table, landed)
            )

    # ------------------------------------------------------------------ bronze.mobile_events
    def mobile_events(self) -> Iterator[DayBatch]:
        c = self.customers
        for day in self.cal.dates():
            rng = self.rng("events", day)
            n = daily_count(rng, self.sizes.events_per_day * _weekday(day))
            sessions = max(1, n // 6)
            session_of = np.sort(rng.integers(0, sessions, size=n))
            session_ids = uuids(rng, sessions).take(pa.array(session_of))
            start = busy_times(rng, day, sessions)
            times = start[session_of] + rng.integers(0, 900, size=n) * US_PER_SECOND
            times = np.minimum(times, midnight_us(day + timedelta(days=1)) - 1)
            eligible = max(1, c.signed_up_between(self.cal.first_day, day + timedelta(days=1))[1])
            session_customer = rng.integers(0, eligible, size=sessions)
            anonymous = rng.random(sessions) < vocab.ANONYMOUS_EVENT_RATE
            cust = session_customer[session_of]
            refs = pc.if_else(
                pa.array(anonymous[session_of]), pa.scalar(None, pa.string()), c.source_id(cust)
            )
            platform = rng.choice(len(vocab.PLATFORMS), size=sessions, p=vocab.PLATFORM_WEIGHTS)[session_of]
            version = rng.integers(0, len(vocab.APP_VERSIONS), size=sessions)[session_of]
            ip = rng.integers(1, 255, size=(sessions, 3))[session_of]
            ip_text = concat(
                "81.",
                *[
                    pc.cast(pa.array(ip[:, i]), pa.string())
                    if i == 2
                    else concat(pc.cast(pa.array(ip[:, i]), pa.string()), ".")
                    for i in range(3)
                ],
            )
            table = pa.table(
                {
                    "event_id": uuids(rng, n),
                    "customer_ref": refs,
                    "event_type": pc.utf8_upper(
                        pick(
                            vocab.EVENT_TYPES,
                            rng.choice(len(vocab.EVENT_TYPES), size=n, p=vocab.EVENT_WEIGHTS),
                        )
                    ),
                    "event_time": pa.array(times, TS),
                    "platform": pick(["iOS", "Android", "Web"], platform),
                    "app_version": pick(vocab.APP_VERSIONS, version),
                    "session_id": session_ids,
                    "device_ip": ip_text,
                }
            )
            resent = np.flatnonzero(rng.random(n) < vocab.EVENT_RESEND_RATE)
            if len(resent):
                table = pa.concat_tables([table, table.take(pa.array(resent))])
                times = np.concatenate([times, times[resent]])
            ingested = self._ingest(rng, day, times, late=False)
            keep = self._visible(ingested)
            table = table.append_column("ingest_date", pa.array(np.full(len(times), day), pa.date32()))
            table = table.filter(pa.array(keep))
            if table.num_rows:
                yield DayBatch(day, table, to_datetime(int(ingested[keep].min())), {"rows": table.num_rows})

    # ------------------------------------------------------------------ bronze.support_tickets
    def support_tickets(self) -> Iterator[DayBatch]:
        c = self.customers
        next_id = 10_000_000
        as_of_us = int(np.datetime64(self.cal.as_of, "us").astype(np.int64))
        rates = vocab.RATES
        for day in self.cal.dates():
            rng = self.rng("tickets", day)
            n = daily_count(rng, self.sizes.tickets_per_day)
            ids = next_id + np.arange(n)
            next_id += n
            times = busy_times(rng, day, n)
            eligible = max(1, c.signed_up_between(self.cal.first_day, day + timedelta(days=1))[1])
            cust = rng.integers(0, eligible, size=n)
            known = rng.random(n) < 0.95
            topic = rng.integers(0, len(SUBJECTS), size=n)
            email_body = rng.random(n) < rates["ticket_email_in_body"]
            phone_body = rng.random(n) < rates["ticket_phone_in_body"]
            email_subject = rng.random(n) < rates["ticket_email_in_subject"]
            email = c.clean_email(cust)
            order = padded("T", 100_000_000 + rng.integers(0, 10_000_000, size=n), 12)
            subject = pick(SUBJECTS, topic)
            subject = where(email_subject, concat(subject, " - ", email), subject)
            body = concat(
                pick(OPENINGS, rng.integers(0, len(OPENINGS), size=n)),
                pick(PROBLEMS, topic),
                " Reference ",
                order,
                ".",
                where(email_body, concat(" Please reply to ", email, " rather than the app."), ""),
                where(phone_body, concat(" You can call me on ", c.phone(cust), " after 5pm."), ""),
                pick(CLOSINGS, rng.integers(0, len(CLOSINGS), size=n)),
            )
            age_days = (as_of_us - times) / (86400 * US_PER_SECOND)
            status = np.where(
                age_days > 7,
                rng.choice([2, 3], size=n, p=[0.3, 0.7]),
                rng.choice(4, size=n, p=[0.4, 0.3, 0.2, 0.1]),
            )
            table = pa.table(
                {
                    "ticket_id": padded("TCK-", ids, 8),
                    "customer_ref": pc.if_else(
                        pa.array(known), c.source_id(cust), pa.scalar(None, pa.string())
                    ),
                    "channel": pick(vocab.CHANNELS, rng.integers(0, len(vocab.CHANNELS), size=n)),
                    "subject": subject,
                    "body": body,
                    "created_at": pa.array(times, TS),
                    "status": pick(vocab.STATUSES, status),
                }
            )
            ingested = self._ingest(rng, day, times, late=False)
            keep = self._visible(ingested)
            table = table.append_column("ingest_date", pa.array(np.full(n, day), pa.date32()))
            table = table.filter(pa.array(keep))
            if not table.num_rows:
                continue
            counts = {
                "rows": table.num_rows,
                "ticket_email_in_body": int(email_body[keep].sum()),
                "ticket_phone_in_body": int(phone_body[keep].sum()),
                "ticket_email_in_subject": int(email_subject[keep].sum()),
                "tickets_with_pii": int((email_body | phone_body | email_subject)[keep].sum()),
            }
            yield DayBatch(day, table, to_datetime(int(ingested[keep].min())), counts)

    # ------------------------------------------------------------------ bronze.iot_telemetry (stream)
    def telemetry(self) -> Iterator[DayBatch]:
        devices = self.sizes.devices
        setup = self.rng("telemetry", 0)
        dev_region = setup.integers(0, len(vocab.REGIONS), size=devices)
        dev_phase = setup.uniform(0, 2 * np.pi, size=devices)
        dev_offset = setup.normal(0, 1, size=(devices, len(vocab.METRICS)))
        spiking = setup.permutation(devices)[: len(vocab.SPIKES)]
        spikes: dict[date, list[tuple[int, int, int]]] = {}  # day -> list of (device, metric index)
        for dev, (metric, days_back) in zip(spiking, vocab.SPIKES, strict=False):
            day = self.cal.as_of.date() - timedelta(days=days_back)
            hour = int(setup.integers(8, 20))
            spikes.setdefault(day, []).append((int(dev), vocab.METRICS.index(metric), hour))
        self.spikes = [
            {
                "device_id": f"DEV-{d + 1:05d}",
                "metric_type": vocab.METRICS[m],
                "window_start": datetime.combine(day, datetime.min.time()) + timedelta(hours=h),
            }
            for day, items in sorted(spikes.items())
            for d, m, h in items
        ]
        slots = 24 * 60 // vocab.READING_MINUTES
        as_of_us = int(np.datetime64(self.cal.as_of, "us").astype(np.int64))
        levels = np.array([vocab.METRIC_SHAPE[m] for m in vocab.METRICS])  # (metrics, 3)
        for day in self.cal.dates():
            rng = self.rng("telemetry", day)
            slot_us = midnight_us(day) + np.arange(slots) * vocab.READING_MINUTES * 60 * US_PER_SECOND
            hours = np.arange(slots) * vocab.READING_MINUTES / 60.0
            shape = (devices, slots, len(vocab.METRICS))
            swing = np.sin(2 * np.pi * hours[None, :, None] / 24 + dev_phase[:, None, None])
            value = (
                levels[None, None, :, 0]
                + dev_offset[:, None, :] * levels[None, None, :, 2] * 3
                + levels[None, None, :, 1] * swing
                + rng.normal(0, 1, size=shape) * levels[None, None, :, 2]
            )
            for dev, m, hour in spikes.get(day, []):
                in_hour = (hours >= hour) & (hours < hour + 1)
                value[dev, in_hour, m] += vocab.SPIKE_SWINGS * levels[m, 1]
            dev_i, slot_i, metric_i = np.indices(shape).reshape(3, -1)
            event = slot_us[slot_i] + rng.integers(0, 60, size=dev_i.size) * US_PER_SECOND
            enqueued = event + rng.integers(1, 20, size=dev_i.size) * US_PER_SECOND
            keep = enqueued <= as_of_us
            if not keep.any():
                continue
            dev_i, metric_i, event, enqueued = dev_i[keep], metric_i[keep], event[keep], enqueued[keep]
            table = pa.table(
                {
                    "device_id": padded("DEV-", dev_i + 1, 5),
                    "event_time": pa.array(event, TS),
                    "metric_type": pick(vocab.METRICS, metric_i),
                    "metric_value": pa.array(np.round(value.reshape(-1)[keep], 4), pa.float64()),
                    "region": pick(vocab.REGIONS, dev_region[dev_i]),
                    "enqueued_time": pa.array(enqueued, TS),
                    "eventhub_partition": pa.array((dev_i % 4).astype(np.int32), pa.int32()),
                    "ingest_date": pa.array(np.full(dev_i.size, day), pa.date32()),
                }
            )
            # a streamed partition arrives when its first events land, not when the day closes
            yield DayBatch(day, table, to_datetime(int(enqueued.min())), {"rows": table.num_rows})


def _weekday(day: date) -> float:
    return 1.15 if day.weekday() >= 5 else 0.94


def _transaction_defects(table: pa.Table, landed: pa.Array) -> dict[str, int]:
    """Defects of one day's copy. An orphan is a reference to no customer of the CRM copy: an injected
    unknown id (CRM-9…), or a customer whose sign-up has not landed in the lake by `as_of` (how many
    depends on the hour of `as_of`, so it is counted, not assumed)."""
    ref = table["customer_ref"]
    amount = table["amount"]
    pay = pc.utf8_lower(table["payment_type"])
    rows = table.num_rows
    return {
        "rows": rows,
        "duplicate_transactions": rows - len(pc.unique(table["txn_id"])),
        "null_customer_ids": ref.null_count,
        "orphan_customer_ids": int(pc.sum(pc.invert(pc.is_in(ref, landed))).as_py() or 0) - ref.null_count,
        "negative_amounts": int(pc.sum(pc.less(amount, 0)).as_py() or 0),
        "extreme_amounts": int(pc.sum(pc.greater(amount, 100_000)).as_py() or 0),
        "unknown_payment_methods": int(
            pc.sum(pc.invert(pc.is_in(pay, pa.array(vocab.PAYMENT_METHODS)))).as_py() or 0
        ),
    }


class Customers:
    """The customer master: one entry per customer, ordered by sign-up time (customer number = index + 1)."""

    def __init__(self, rng: np.random.Generator, n: int, cal: Calendar) -> None:
        self.n = n
        start = midnight_us(cal.first_day)
        year_us = 365 * 86400 * US_PER_SECOND
        pre = round(n * vocab.PRE_WINDOW_SHARE)
        inside = n - pre
        before = start - (rng.random(pre) * 3 * year_us).astype(np.int64)
        day_idx = np.concatenate(
            [np.arange(min(inside, cal.days)), rng.integers(0, cal.days, size=max(0, inside - cal.days))]
        )
        within = start + day_idx * 86400 * US_PER_SECOND + rng.integers(0, 86400, size=inside) * US_PER_SECOND
        self.signup_us = np.sort(np.concatenate([before, within]))
        # last CRM change before the initial load (for pre-window customers)
        span = np.maximum(start - self.signup_us, 1)
        self.last_change_us = self.signup_us + (rng.random(n) * span).astype(np.int64)
        self.first = rng.integers(0, len(vocab.FIRST_NAMES), size=n)
        self.last = rng.integers(0, len(vocab.LAST_NAMES), size=n)
        self.domain = rng.integers(0, len(vocab.EMAIL_DOMAINS), size=n)
        self.number = rng.integers(1, 1000, size=n)
        self.region = rng.integers(0, len(vocab.REGIONS), size=n)
        self.phone_digits = rng.integers(7_400_000_000, 7_999_999_999, size=n)
        self.malformed = rng.random(n) < vocab.RATES["malformed_emails"]
        # set by crm_customers (which the build writes first): customers whose CRM row is in the lake
        self.landed = np.zeros(n, dtype=bool)
        self.malformed_kind = rng.integers(0, 4, size=n)
        self.variant = rng.random(n) < vocab.EMAIL_VARIANT_RATE
        self.dmy = rng.random(n) < vocab.DMY_SIGNUP_RATE

    def signed_up_between(self, lo: date, hi: date) -> tuple[int, int]:
        """Index range [a, b) of customers who signed up in [lo, hi) (b also = how many signed up before hi)."""
        a, b = np.searchsorted(self.signup_us, [midnight_us(lo), midnight_us(hi)])
        return int(a), int(b)

    def source_id(self, idx: np.ndarray) -> pa.Array:
        return padded("CRM-", idx + 1, 7)

    def full_name(self, idx: np.ndarray) -> pa.Array:
        return concat(pick(vocab.FIRST_NAMES, self.first[idx]), " ", pick(vocab.LAST_NAMES, self.last[idx]))

    def clean_email(self, idx: np.ndarray) -> pa.Array:
        local = pc.utf8_lower(
            concat(
                pick(vocab.FIRST_NAMES, self.first[idx]),
                ".",
                pc.replace_substring(pick(vocab.LAST_NAMES, self.last[idx]), " ", ""),
                pc.cast(pa.array(self.number[idx]), pa.string()),
            )
        )
        return concat(local, "@", pick(vocab.EMAIL_DOMAINS, self.domain[idx]))

    def bronze_email(self, idx: np.ndarray) -> pa.Array:
        """As the CRM holds it: some in odd case with stray spaces (silver normalises), some malformed."""
        clean = self.clean_email(idx)
        kind = self.malformed_kind[idx]
        broken = [
            pc.replace_substring(clean, "@", " at "),
            pc.replace_substring(clean, "@", "@@"),
            pc.replace_substring_regex(clean, r"\.[a-z.]+$", ""),
            pc.replace_substring(clean, ".", " ", max_replacements=1),
        ]
        malformed = broken[0]
        for k in (1, 2, 3):
            malformed = where(kind == k, broken[k], malformed)
        odd = concat(" ", pc.utf8_title(clean), " ")
        out = where(self.variant[idx], odd, clean)
        return where(self.malformed[idx], malformed, out)

    def phone(self, idx: np.ndarray) -> pa.Array:
        digits = pc.cast(pa.array(self.phone_digits[idx]), pa.string())
        return concat(
            "+44 ", pc.utf8_slice_codeunits(digits, 0, 4), " ", pc.utf8_slice_codeunits(digits, 4, 10)
        )

    def signup_text(self, idx: np.ndarray) -> pa.Array:
        ts = pa.array(self.signup_us[idx], TS)
        return where(self.dmy[idx], pc.strftime(ts, "%d/%m/%Y"), pc.strftime(ts, "%Y-%m-%d"))


SUBJECTS = [
    "Order not delivered",
    "Refund request",
    "Payment declined",
    "Cannot log in to the app",
    "Wrong item received",
    "Question about my invoice",
    "Loyalty points missing",
    "App crashes at checkout",
]
PROBLEMS = [
    " My order has not arrived yet and the tracking page has not changed for days.",
    " I returned the item last week and would like to know when the refund will be processed.",
    " My card payment was declined twice although the card works elsewhere.",
    " The app keeps saying my password is wrong after the latest update.",
    " The parcel contained a different product from the one I ordered.",
    " The invoice shows a different total from the one at checkout.",
    " The points from my last purchases are not showing in my account.",
    " The app closes every time I press the pay button.",
]
OPENINGS = ["Hello,", "Hi team,", "Good morning,", "Dear support,", "Hi there,"]
CLOSINGS = [" Thanks.", " Kind regards.", " Thank you for your help.", " Cheers.", ""]
