"""Publication dates: ISO 8601, RFC 822, numeric and natural Russian / Kazakh / English forms.

Every parsed date comes back timezone-aware in UTC.  A date without a zone is read in the
source's timezone (config ``ingest.source_timezones``) or the default one (Asia/Almaty).
Dates in the future (beyond a day of slack) or before 1990 are flagged, never guessed away.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from zoneinfo import ZoneInfo

__all__ = ["parse_date", "DateParseError", "flag_date"]


class DateParseError(ValueError):
    """The string is not a date mediamon can read."""


_MONTHS: dict[str, int] = {}
for _n, _names in enumerate(
    [
        ("январ", "january", "jan", "қаңтар", "qańtar", "qantar"),
        ("феврал", "february", "feb", "ақпан", "aqpan"),
        ("март", "марта", "march", "mar", "наурыз", "naýryz", "nauryz"),
        ("апрел", "april", "apr", "сәуір", "sáýir", "sauir"),
        ("ма", "may", "мамыр", "mamyr"),
        ("июн", "june", "jun", "маусым", "maýsym", "mausym"),
        ("июл", "july", "jul", "шілде", "shilde"),
        ("август", "august", "aug", "тамыз", "tamyz"),
        ("сентябр", "september", "sep", "sept", "қыркүйек", "qyrkúiek", "qyrkuiek"),
        ("октябр", "october", "oct", "қазан", "qazan"),
        ("ноябр", "november", "nov", "қараша", "qarasha"),
        ("декабр", "december", "dec", "желтоқсан", "jeltoqsan"),
    ],
    start=1,
):
    for _name in _names:
        _MONTHS[_name] = _n


def _month(word: str) -> int | None:
    w = word.lower().strip(".,")
    if w in _MONTHS:
        return _MONTHS[w]
    if w in ("мая", "май"):
        return 5
    # Russian month names inflect (января, январь); match the stem, longest first.
    for stem in sorted((s for s in _MONTHS if len(s) >= 4), key=len, reverse=True):
        if w.startswith(stem):
            return _MONTHS[stem]
    return None


_TIME = r"(?:[,\s]+(?:в\s+|at\s+|сағат\s+)?(?P<h>\d{1,2})[:.](?P<mi>\d{2})(?::(?P<s>\d{2}))?)?"
_NATURAL_DMY = re.compile(
    r"^\s*(?P<d>\d{1,2})\s+(?P<mon>[^\W\d_]+)\.?,?\s+(?P<y>\d{4})(?:\s*(?:г\.?|года|ж\.?|жылы|year))?" + _TIME,
    re.IGNORECASE,
)
_NATURAL_YMD_KK = re.compile(  # 2024 жылғы 1 қаңтар / 2024 жылы 1 қаңтарда
    r"^\s*(?P<y>\d{4})\s*(?:жылғы|жылы|ж\.)?\s+(?P<d>\d{1,2})\s*[-]?\s*(?P<mon>[^\W\d_]+)" + _TIME,
    re.IGNORECASE,
)
_NATURAL_MDY = re.compile(
    r"^\s*(?:[A-Za-z]+,\s+)?(?P<mon>[A-Za-z]+)\.?\s+(?P<d>\d{1,2})(?:st|nd|rd|th)?,?\s+(?P<y>\d{4})" + _TIME,
    re.IGNORECASE,
)
_NUMERIC_DMY = re.compile(r"^\s*(?P<d>\d{1,2})[./](?P<m>\d{1,2})[./](?P<y>\d{4})" + _TIME + r"\s*$")
_YEAR_MONTH = re.compile(r"^\s*(?P<y>\d{4})-(?P<m>\d{2})\s*$")
_YEAR = re.compile(r"^\s*(?P<y>\d{4})\s*$")


def _build(y: int, m: int, d: int, h: int, mi: int, s: int, tz: ZoneInfo) -> datetime:
    try:
        return datetime(y, m, d, h, mi, s, tzinfo=tz).astimezone(UTC)
    except ValueError as e:
        raise DateParseError(str(e)) from None


def _hms(m: re.Match[str]) -> tuple[int, int, int]:
    h, mi, s = m.group("h"), m.group("mi"), m.group("s")
    return int(h or 0), int(mi or 0), int(s or 0)


def parse_date(raw: str, *, default_tz: str = "Asia/Almaty") -> datetime:
    """Parse a publication date string to an aware UTC datetime.

    Args:
        raw: The date as found in the input.
        default_tz: IANA zone for dates that carry no offset.

    Raises:
        DateParseError: the string is not a recognisable date.

    Example:
        >>> parse_date("1 января 2024, 14:05").isoformat()
        '2024-01-01T08:05:00+00:00'
    """
    s = " ".join(str(raw).split())
    if not s:
        raise DateParseError("empty date")
    tz = ZoneInfo(default_tz)
    # ISO 8601 (also "2024-01-01 10:00:00", "...Z").
    iso = s.replace("Z", "+00:00") if s.endswith("Z") else s
    try:
        dt = datetime.fromisoformat(iso)
    except ValueError:
        dt = None
    if dt is not None:
        if dt.tzinfo is None:
            dt = dt.replace(tzinfo=tz)
        return dt.astimezone(UTC)
    if m := _YEAR_MONTH.match(s):
        return _build(int(m["y"]), int(m["m"]), 1, 0, 0, 0, tz)
    if m := _YEAR.match(s):
        return _build(int(m["y"]), 1, 1, 0, 0, 0, tz)
    if m := _NUMERIC_DMY.match(s):
        return _build(int(m["y"]), int(m["m"]), int(m["d"]), *_hms(m), tz)
    for rx in (_NATURAL_DMY, _NATURAL_YMD_KK, _NATURAL_MDY):
        if (m := rx.match(s)) and (mon := _month(m["mon"])):
            return _build(int(m["y"]), mon, int(m["d"]), *_hms(m), tz)
    # RFC 822 / 2822 (RSS pubDate).
    try:
        dt = parsedate_to_datetime(s)
    except (TypeError, ValueError, IndexError):
        dt = None
    if dt is not None:
        if dt.tzinfo is None:
            dt = dt.replace(tzinfo=tz)
        return dt.astimezone(UTC)
    raise DateParseError(f"not a recognised date: {s[:60]!r}")


def flag_date(dt: datetime, *, now: datetime | None = None) -> str | None:
    """Return ``"future"``, ``"ancient"`` (before 1990) or ``None``."""
    now = now or datetime.now(UTC)
    if dt > now + timedelta(days=1):
        return "future"
    if dt.year < 1990:
        return "ancient"
    return None
