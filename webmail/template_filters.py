"""How dates, sizes and folder names read in the interface, in the person's language."""

from __future__ import annotations

import re
from datetime import datetime

from babel.dates import get_date_format, get_datetime_format, get_time_format
from flask import Flask
from flask_babel import get_locale, get_timezone, gettext, lazy_gettext

from imap_bridge.models import Folder, SpecialUse

SPECIAL_FOLDER_NAMES = {
    SpecialUse.INBOX: lazy_gettext("Inbox"),
    SpecialUse.DRAFTS: lazy_gettext("Drafts"),
    SpecialUse.SENT: lazy_gettext("Sent"),
    SpecialUse.ARCHIVE: lazy_gettext("Archive"),
    SpecialUse.JUNK: lazy_gettext("Junk"),
    SpecialUse.TRASH: lazy_gettext("Trash"),
    SpecialUse.ALL: lazy_gettext("All mail"),
    SpecialUse.FLAGGED: lazy_gettext("Flagged"),
}


def folder_label(folder: Folder) -> str:
    """Special folders in the reader's language; others by their own (last) name."""
    if folder.special_use is not None and folder.depth == 0:
        return str(SPECIAL_FOLDER_NAMES[folder.special_use])
    return folder.leaf_name


def list_date(value: datetime | None) -> str:
    """Today: the time; this year: day and month; older: the short date."""
    return PageFormatter().list_date(value)


def full_date(value: datetime | None) -> str:
    """Weekday, date and time in the reader's zone."""
    return PageFormatter().full_date(value)


def iso_date(value: datetime | None) -> str:
    return value.isoformat() if value is not None else ""


def file_size(size: int) -> str:
    """Sizes as people read them: 980 o, 12 Ko, 3,4 Mo (bytes, kB, MB in English)."""
    return PageFormatter().file_size(size)


class _FastPattern:
    """A babel date pattern applied without babel's per-field dispatch.

    The fields a list page uses are computed directly from the locale's names; any
    other field falls back to babel, so the output is always babel's.
    """

    def __init__(self, pattern, locale) -> None:
        self.pattern = pattern
        self.locale = locale
        self.fields = re.findall(r"%\((\w+)\)s", pattern.format)
        self.fast = all(field in _FIELDS for field in self.fields)
        self.names = {
            "EEEE": locale.days["format"]["wide"],
            "MMMM": locale.months["format"]["wide"],
            "MMM": locale.months["format"]["abbreviated"],
            "a": locale.day_periods["format"]["abbreviated"],
        }

    def apply(self, value: datetime) -> str:
        if not self.fast:
            return self.pattern.apply(value, self.locale)
        return self.pattern.format % {field: _FIELDS[field](value, self.names)
                                      for field in self.fields}


_FIELDS = {
    "EEEE": lambda v, n: n["EEEE"][v.weekday()],
    "MMMM": lambda v, n: n["MMMM"][v.month],
    "MMM": lambda v, n: n["MMM"][v.month],
    "d": lambda v, n: str(v.day),
    "dd": lambda v, n: f"{v.day:02d}",
    "M": lambda v, n: str(v.month),
    "MM": lambda v, n: f"{v.month:02d}",
    "y": lambda v, n: str(v.year),
    "yy": lambda v, n: f"{v.year % 100:02d}",
    "H": lambda v, n: str(v.hour),
    "HH": lambda v, n: f"{v.hour:02d}",
    "h": lambda v, n: str(v.hour % 12 or 12),
    "mm": lambda v, n: f"{v.minute:02d}",
    "a": lambda v, n: n["a"]["am" if v.hour < 12 else "pm"],
}


class PageFormatter:
    """The filters above with the locale, zone and units looked up once.

    A list page formats a date, a long date and a size for fifty rows; each flask-babel
    call looks up the request's locale and zone again, which cost more than the IMAP
    fetch itself on slow machines.
    """

    def __init__(self) -> None:
        self.locale = get_locale()
        self.zone = get_timezone()
        self.today = datetime.now(self.zone).date()
        self.short_time = _FastPattern(get_time_format("short", self.locale), self.locale)
        self.short_date = _FastPattern(get_date_format("short", self.locale), self.locale)
        self.full = _FastPattern(get_date_format("full", self.locale), self.locale)
        self.joiner = get_datetime_format("long", self.locale)
        self.day_month = _FastPattern(self.locale.datetime_skeletons.get("MMMd")
                                      or get_date_format("medium", self.locale), self.locale)
        # gettext with no arguments returns the pattern; filled in below per row
        self.units = (gettext("%(n)s B"), gettext("%(n)s kB"), gettext("%(n)s MB"))

    def list_date(self, value: datetime | None) -> str:
        if value is None:
            return ""
        local = value.astimezone(self.zone)
        if local.date() == self.today:
            return self.short_time.apply(local)
        if local.year == self.today.year:
            return self.day_month.apply(local)
        return self.short_date.apply(local)

    def full_date(self, value: datetime | None) -> str:
        if value is None:
            return ""
        local = value.astimezone(self.zone)
        date = self.full.apply(local)
        time = self.short_time.apply(local)
        return self.joiner.replace("{1}", date).replace("{0}", time)

    def file_size(self, size: int) -> str:
        if size < 1000:
            return self.units[0] % {"n": size}
        if size < 1_000_000:
            return self.units[1] % {"n": round(size / 1000)}
        number = f"{round(size / 1_000_000, 1):g}"
        return self.units[2] % {"n": number.replace(".", self._decimal_sign())}

    def _decimal_sign(self) -> str:
        try:
            return self.locale.number_symbols["latn"]["decimal"]
        except (KeyError, TypeError):
            return "."


def init_app(app: Flask) -> None:
    app.add_template_filter(folder_label)
    app.add_template_filter(list_date)
    app.add_template_filter(full_date)
    app.add_template_filter(iso_date)
    app.add_template_filter(file_size)
    app.add_template_global(PageFormatter, "page_formatter")
