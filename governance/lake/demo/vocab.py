"""Demo vocabulary, sizes and the documented defect rates (README "The demo lake" lists the same)."""

from __future__ import annotations

REGIONS = ["north", "south", "east", "west", "central"]
COUNTRIES = ["GB", "GB", "GB", "IE", "NL"]  # by region index: the UK regions plus two neighbours
PAYMENT_METHODS = ["credit_card", "debit_card", "paypal", "bank_transfer", "apple_pay", "google_pay", "cash"]
PAYMENT_WEIGHTS = [0.32, 0.24, 0.14, 0.08, 0.10, 0.07, 0.05]
UNKNOWN_PAYMENT_METHODS = ["crypto", "voucher"]
METRICS = ["temperature", "humidity", "pressure", "vibration", "battery"]
# per metric: (typical level, daily swing amplitude, reading noise)
METRIC_SHAPE = {
    "temperature": (21.0, 3.0, 0.3),
    "humidity": (45.0, 8.0, 1.0),
    "pressure": (1013.0, 4.0, 0.5),
    "vibration": (0.8, 0.2, 0.02),
    "battery": (80.0, 2.0, 0.2),
}
EVENT_TYPES = [
    "app_open",
    "login",
    "view_product",
    "add_to_cart",
    "checkout",
    "purchase",
    "logout",
    "push_open",
]
EVENT_WEIGHTS = [0.18, 0.10, 0.34, 0.12, 0.06, 0.05, 0.08, 0.07]
PLATFORMS = ["ios", "android", "web"]
PLATFORM_WEIGHTS = [0.42, 0.43, 0.15]
APP_VERSIONS = ["4.10.2", "4.11.0", "4.11.1", "4.12.0", "4.12.3"]
CHANNELS = ["email", "phone", "chat", "web"]
STATUSES = ["open", "pending", "resolved", "closed"]
FIRST_NAMES = [
    "Olivia",
    "Amelia",
    "Isla",
    "Ava",
    "Mia",
    "Ivy",
    "Lily",
    "Isabella",
    "Rosie",
    "Sophia",
    "Grace",
    "Freya",
    "Noah",
    "Oliver",
    "George",
    "Leo",
    "Arthur",
    "Muhammad",
    "Harry",
    "Oscar",
    "Archie",
    "Henry",
    "Theo",
    "Jack",
    "Aisha",
    "Priya",
    "Chen",
    "Mateo",
    "Sofia",
    "Liam",
    "Ella",
    "Ethan",
    "Zara",
    "Niamh",
    "Ciaran",
    "Sean",
    "Aoife",
    "Lucas",
    "Emma",
    "Daan",
]
LAST_NAMES = [
    "Smith",
    "Jones",
    "Williams",
    "Taylor",
    "Brown",
    "Davies",
    "Evans",
    "Wilson",
    "Thomas",
    "Johnson",
    "Roberts",
    "Robinson",
    "Thompson",
    "Wright",
    "Walker",
    "White",
    "Edwards",
    "Hughes",
    "Green",
    "Hall",
    "Lewis",
    "Harris",
    "Clarke",
    "Patel",
    "Jackson",
    "Wood",
    "Turner",
    "Martin",
    "Cooper",
    "Hill",
    "Ward",
    "Morris",
    "Moore",
    "Murphy",
    "Kelly",
    "Byrne",
    "Khan",
    "Ali",
    "Singh",
    "de Vries",
]
EMAIL_DOMAINS = [
    "gmail.com",
    "outlook.com",
    "yahoo.co.uk",
    "hotmail.co.uk",
    "icloud.com",
    "btinternet.com",
    "smartmail.example",
    "proton.me",
]

# Sizes at --scale 1 (everything is proportional to the scale; daily counts are at least 1).
CUSTOMERS = 10_000
PRE_WINDOW_SHARE = 0.7  # customers who signed up before the 90-day window (the CRM initial load)
TRANSACTIONS = 100_000
MOBILE_EVENTS = 200_000
TICKETS_PER_DAY = 20
DEVICES = 15  # at least MIN_DEVICES
MIN_DEVICES = 6
PRODUCTS = 5_000
DAYS = 90
READING_MINUTES = 30  # one reading per metric per device every 30 minutes

# Documented defect rates (fractions of rows), injected independently per row.
RATES = {
    "duplicate_transactions": 0.005,
    "null_customer_ids": 0.003,
    "orphan_customer_ids": 0.005,
    "negative_amounts": 0.002,
    "extreme_amounts": 0.0005,
    "unknown_payment_methods": 0.003,
    "malformed_emails": 0.005,
    "ticket_email_in_body": 0.12,
    "ticket_phone_in_body": 0.08,
    "ticket_email_in_subject": 0.03,
}
# Realistic noise that silver cleans up (not defects): CRM updates, e-mail case/space variants,
# day/month/year signup dates, mobile SDK re-sends, anonymous app events.
CRM_DAILY_UPDATE_RATE = 0.003
EMAIL_VARIANT_RATE = 0.05
DMY_SIGNUP_RATE = 0.10
EVENT_RESEND_RATE = 0.01
ANONYMOUS_EVENT_RATE = 0.08

MISSING_DAY_OFFSET = 35  # bronze.sqlserver_transactions has no partition 35 days before --as-of
LATE_DAY_OFFSET = 20  # ... and the partition 20 days before --as-of lands at 14:30 that day
LATE_ARRIVAL_HOUR = 14.5
SPIKES = [("temperature", 45), ("vibration", 30), ("pressure", 12)]  # (metric, days before --as-of)
SPIKE_SWINGS = 40.0  # a spike reads this many daily-swing amplitudes above normal
