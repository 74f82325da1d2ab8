"""Data-quality flags computed for every response at submit. Pure: plain values in, flags out."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime, time, timedelta, timezone

#: Vietnam keeps UTC+7 all year (no daylight saving), so no time-zone database is needed
VIETNAM = timezone(timedelta(hours=7))
STRAIGHT_LINE_MIN_ITEMS = 5
#: an address sending this many times a phone's burst limit within ADDRESS_WINDOW is a burst: more
#: than a busy counter's Wi-Fi sends (100 citizens in an hour is ~17 in ten minutes), as much as a
#: script that drops its cookies to look like many phones
ADDRESS_BURST_FACTOR = 10
ADDRESS_WINDOW = timedelta(minutes=10)

#: how a response came in, as staff pages name it
CHANNEL_NAMES = {
    "counter": "mã QR tại quầy",
    "slip": "phiếu QR riêng",
    "invitation": "đường dẫn riêng",
    "paper": "phiếu giấy nhập lại",
}

FLAG_NAMES = {
    "too_fast": "trả lời quá nhanh",
    "straight_lining": "mọi câu thang đo cùng một mức",
    "burst": "nhiều phiếu từ một máy",
    "address_burst": "nhiều phiếu từ một mạng",
    "off_hours": "ngoài giờ làm việc",
}


def hash_key(secret: str, purpose: str) -> bytes:
    """A key of its own for each use of keyed hashes, derived from the app's secret: the responses
    of one campaign (``campaign 12``), rate-limit counters (``rate limits``). The same phone or
    address hashes differently in two campaigns, and differently again in the counter store."""
    return hmac.new(secret.encode(), f"surveyapp hashes v2, {purpose}".encode(), hashlib.sha256).digest()


def keyed_hash(key: bytes, kind: str, value: str) -> str:
    """HMAC-SHA256 of ``value``: enough to tell one phone or address from another; without the key,
    nothing to enumerate addresses against."""
    return hmac.new(key, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()


def campaign_key(secret: str, campaign_id: int) -> bytes:
    return hash_key(secret, f"campaign {campaign_id}")


def device_hash(secret: str, device_cookie: str, campaign_id: int) -> str:
    return keyed_hash(campaign_key(secret, campaign_id), "device", device_cookie)


def address_hash(secret: str, address: str, campaign_id: int) -> str:
    return keyed_hash(campaign_key(secret, campaign_id), "address", address)


def too_fast(shown_at: datetime | None, submitted_at: datetime, questions: int, min_seconds: float) -> bool:
    if shown_at is None or questions == 0:
        return False
    return (submitted_at - shown_at).total_seconds() < min_seconds * questions


def straight_lining(scale_levels: list[float]) -> bool:
    """Every scale item answered at the same level (with enough items for that to mean something)."""
    return len(scale_levels) >= STRAIGHT_LINE_MIN_ITEMS and len(set(scale_levels)) == 1


def parse_hours(text: str) -> list[tuple[time, time]]:
    """ "07:30-11:30,13:30-17:00" → [(07:30, 11:30), (13:30, 17:00)]; ValueError when malformed."""
    spans = []
    for part in text.split(","):
        start, end = part.strip().split("-")
        a, b = time.fromisoformat(start.strip()), time.fromisoformat(end.strip())
        if a >= b:
            raise ValueError(part)
        spans.append((a, b))
    return spans


def off_hours(opening_hours: str | None, submitted_at: datetime) -> bool:
    """Outside the unit's opening hours, Monday to Friday, Vietnam time. Unknown hours: never."""
    if not opening_hours:
        return False
    try:
        spans = parse_hours(opening_hours)
    except ValueError:
        return False
    local = submitted_at.astimezone(VIETNAM)
    if local.weekday() >= 5:
        return True
    now = local.time()
    return not any(a <= now <= b for a, b in spans)


def flags_for(
    *,
    shown_at: datetime | None,
    submitted_at: datetime | None = None,
    questions: int,
    min_seconds: float,
    scale_levels: list[float],
    recent_from_device: int,
    burst_limit: int,
    recent_from_address: int = 0,
    opening_hours: str | None,
    check_hours: bool,
) -> list[str]:
    submitted_at = submitted_at or datetime.now(UTC)
    flags = []
    if too_fast(shown_at, submitted_at, questions, min_seconds):
        flags.append("too_fast")
    if straight_lining(scale_levels):
        flags.append("straight_lining")
    if recent_from_device >= burst_limit:
        flags.append("burst")
    if recent_from_address >= burst_limit * ADDRESS_BURST_FACTOR:
        flags.append("address_burst")
    if check_hours and off_hours(opening_hours, submitted_at):
        flags.append("off_hours")
    return flags
