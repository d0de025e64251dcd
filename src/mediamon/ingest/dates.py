"""Publication dates: ISO 8601, RFC 822, numeric and natural Russian / Kazakh / English forms.

Every parsed date comes back timezone-aware in UTC.  A date without a zone is read in the
source's timezone (config ``ingest.source_timezones``) or the default one (Asia/Almaty).
Natural and numeric forms may carry a time (``14:05``, ``2:05 pm``, ``в 14:05``) and a zone
after it (``MSK``, ``UTC+3``, ``+03:00``).  Numeric dates are day-first (``12.03.2025`` is
12 March); two-digit years are 1970–2069.  Relative forms ("вчера", "2 hours ago") are not
parsed: they need the crawl time, which feeds do not carry.
Dates in the future (beyond a day of slack) or before 1990 are flagged, never guessed away.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone, tzinfo
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


_ZONE = (
    r"(?:\s*\(?\s*(?P<tz>Z|UTC|GMT|MSK|MSD|ALMT|AQTT|QYZT|ORAT|[+-]\d{2}:?\d{2}"
    r"|(?:UTC|GMT)\s*[+-]\s*\d{1,2}(?::?\d{2})?)\s*\)?)?"
)
_TIME = (
    r"(?:[,\s]+(?:в\s+|at\s+|сағат\s+|-\s*)?(?P<h>\d{1,2})[:.](?P<mi>\d{2})(?::(?P<s>\d{2}))?"
    r"(?:\s*(?P<ampm>[ap]\.?\s?m\.?))?" + _ZONE + r")?"
)
_NATURAL_DMY = re.compile(
    r"^\s*(?:[^\W\d_]+,\s+)?(?P<d>\d{1,2})\s+(?P<mon>[^\W\d_]+)\.?,?\s+(?P<y>\d{4})(?:\s*(?:г\.?|года|ж\.?|жылы|year))?"
    + _TIME + r"\s*$",
    re.IGNORECASE,
)
_NATURAL_YMD_KK = re.compile(  # 2024 жылғы 1 қаңтар / 2024 жылы 1 қаңтарда
    r"^\s*(?P<y>\d{4})\s*(?:жылғы|жылы|ж\.)?\s+(?P<d>\d{1,2})\s*[-]?\s*(?P<mon>[^\W\d_]+)" + _TIME + r"\s*$",
    re.IGNORECASE,
)
_NATURAL_MDY = re.compile(
    r"^\s*(?:[A-Za-z]+,\s+)?(?P<mon>[A-Za-z]+)\.?\s+(?P<d>\d{1,2})(?:st|nd|rd|th)?,?\s+(?P<y>\d{4})" + _TIME + r"\s*$",
    re.IGNORECASE,
)
_NUMERIC_DMY = re.compile(r"^\s*(?P<d>\d{1,2})[./-](?P<m>\d{1,2})[./-](?P<y>\d{4}|\d{2})(?:\s*г\.?)?" + _TIME + r"\s*$")
_NUMERIC_YMD = re.compile(r"^\s*(?P<y>\d{4})[./](?P<m>\d{1,2})[./](?P<d>\d{1,2})" + _TIME + r"\s*$")
_YEAR_MONTH = re.compile(r"^\s*(?P<y>\d{4})-(?P<m>\d{2})\s*$")
_YEAR = re.compile(r"^\s*(?P<y>\d{4})\s*$")
_ABBREV_OFFSETS = {"Z": 0, "UTC": 0, "GMT": 0, "MSK": 180, "MSD": 240, "ALMT": 360, "AQTT": 300, "QYZT": 360, "ORAT": 300}


def _zone(m: re.Match[str], default: ZoneInfo) -> tzinfo:
    """The zone written after the time, else the source's default zone."""
    raw = m.groupdict().get("tz")
    if not raw:
        return default
    raw = raw.upper().replace(" ", "")
    if raw in _ABBREV_OFFSETS:
        return timezone(timedelta(minutes=_ABBREV_OFFSETS[raw]))
    z = re.match(r"^(?:UTC|GMT)?([+-])(\d{1,2}):?(\d{2})?$", raw)
    if not z:
        raise DateParseError(f"unknown timezone {raw!r}")
    mins = int(z.group(2)) * 60 + int(z.group(3) or 0)
    if mins > 14 * 60:
        raise DateParseError(f"timezone offset out of range: {raw!r}")
    return timezone(timedelta(minutes=mins if z.group(1) == "+" else -mins))


def _build(y: int, m: int, d: int, h: int, mi: int, s: int, tz: tzinfo) -> datetime:
    try:
        return datetime(y, m, d, h, mi, s, tzinfo=tz).astimezone(UTC)
    except (ValueError, OverflowError) as e:
        raise DateParseError(str(e)) from None


def _hms(m: re.Match[str]) -> tuple[int, int, int]:
    h, mi, s = m.group("h"), m.group("mi"), m.group("s")
    hour = int(h or 0)
    ampm = (m.groupdict().get("ampm") or "").replace(".", "").replace(" ", "").lower()
    if ampm:
        if not 1 <= hour <= 12:
            raise DateParseError(f"hour {hour} with {ampm}")
        hour = hour % 12 + (12 if ampm == "pm" else 0)
    return hour, int(mi or 0), int(s or 0)


def _year(y: str) -> int:
    v = int(y)
    if len(y) == 2:  # 12.03.25 -> 2025; 12.03.98 -> 1998
        v += 2000 if v < 70 else 1900
    return v


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
    if len(s) > 100:
        raise DateParseError(f"too long for a date ({len(s)} characters)")
    try:
        tz = ZoneInfo(default_tz)
    except (ValueError, KeyError) as e:  # ZoneInfoNotFoundError is a KeyError
        raise DateParseError(f"unknown timezone {default_tz!r}") from e
    # ISO 8601 (also "2024-01-01 10:00:00", "...Z").
    iso = s.replace("Z", "+00:00") if s.endswith("Z") else s
    try:
        dt = datetime.fromisoformat(iso)
    except ValueError:
        dt = None
    if dt is not None:
        if dt.tzinfo is None:
            dt = dt.replace(tzinfo=tz)
        try:
            return dt.astimezone(UTC)
        except (ValueError, OverflowError) as e:
            raise DateParseError(str(e)) from None
    if m := _YEAR_MONTH.match(s):
        return _build(int(m["y"]), int(m["m"]), 1, 0, 0, 0, tz)
    if m := _YEAR.match(s):
        return _build(int(m["y"]), 1, 1, 0, 0, 0, tz)
    if m := _NUMERIC_DMY.match(s) or _NUMERIC_YMD.match(s):
        y, mo, d = _year(m["y"]), int(m["m"]), int(m["d"])
        return _build(y, mo, d, *_hms(m), _zone(m, tz))
    for rx in (_NATURAL_DMY, _NATURAL_YMD_KK, _NATURAL_MDY):
        if (m := rx.match(s)) and (mon := _month(m["mon"])):
            y, d = int(m["y"]), int(m["d"])
            return _build(y, mon, d, *_hms(m), _zone(m, tz))
    # RFC 822 / 2822 (RSS pubDate).
    try:
        dt = parsedate_to_datetime(s)
    except (TypeError, ValueError, IndexError):
        dt = None
    if dt is not None:
        if dt.tzinfo is None:
            dt = dt.replace(tzinfo=tz)
        try:
            return dt.astimezone(UTC)
        except (ValueError, OverflowError) as e:
            raise DateParseError(str(e)) from None
    raise DateParseError(f"not a recognised date: {s[:60]!r}")


def flag_date(dt: datetime, *, now: datetime | None = None) -> str | None:
    """Return ``"future"``, ``"ancient"`` (before 1990) or ``None``."""
    now = now or datetime.now(UTC)
    if dt > now + timedelta(days=1):
        return "future"
    if dt.year < 1990:
        return "ancient"
    return None
