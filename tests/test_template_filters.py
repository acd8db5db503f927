"""Dates and sizes as the interface writes them, in French and English."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from webmail.template_filters import PageFormatter

DATES = [datetime(2026, 11, 20, 8, 5, tzinfo=UTC), datetime(2025, 1, 2, 23, 59, tzinfo=UTC),
         datetime(2026, 6, 30, 12, 0, tzinfo=UTC), datetime.now(UTC)]


@pytest.mark.parametrize("language", ["fr", "en"])
def test_fast_patterns_write_what_babel_writes(app, language):
    with app.test_request_context(headers={"Cookie": f"pli_lang={language}"}):
        formatter = PageFormatter()
        for value in DATES:
            local = value.astimezone(formatter.zone)
            for pattern in (formatter.full, formatter.short_time, formatter.short_date,
                            formatter.day_month):
                assert pattern.fast
                assert pattern.apply(local) == pattern.pattern.apply(local, formatter.locale)


def test_paris_time_and_french_words(app):
    with app.test_request_context():
        formatter = PageFormatter()
        assert formatter.full_date(DATES[0]) == "vendredi 20 novembre 2026, 09:05"
        assert formatter.list_date(DATES[1]) == "03/01/2025"
        assert formatter.file_size(980) == "980 o"
        assert formatter.file_size(12_400) == "12 Ko"
        assert formatter.file_size(3_456_789) == "3,5 Mo"
