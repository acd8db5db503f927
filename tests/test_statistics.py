"""Usage statistics: per person for three months, anonymous after; patients anonymous from
the start; the CSV export of anonymous indicators.

Days are chosen years in the past so that `flask retention run --now …` reaches only the
counters each test arranged.
"""

from __future__ import annotations

import csv
import io
import itertools
import os
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from tests.conftest import MailUser, sign_in
from tests.mailfactory import message
from webmail.db import db
from webmail.models import AnonymousCounter, UsageCounter
from webmail.services import statistics, traces

_counter = itertools.count(1)


def _person() -> str:
    return f"stats{os.getpid()}x{next(_counter)}@pli.test"


def _cli(app, *args: str):
    return app.test_cli_runner().invoke(args=list(args))


def _anonymous(app, day: date) -> dict[str, int]:
    with app.app_context():
        rows = db.session.execute(select(AnonymousCounter.metric, AnonymousCounter.amount)
                                  .where(AnonymousCounter.day == day))
        return dict(rows.all())


def _per_person(app, actor: str) -> dict[tuple[date, str], int]:
    with app.app_context():
        return {(i.day, i.metric): i.value for i in statistics.usage_for(actor)}


def _noon(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 11, 0, tzinfo=UTC)  # noon in Paris


def test_signing_in_and_opening_count_for_the_person(app, client, mail_user: MailUser,
                                                     mail_backend):
    mail_backend.append(mail_user.address, "INBOX", message("Un"))
    sign_in(client, mail_user)
    client.get(f"/b/{mail_user.address}/INBOX/1")
    client.get(f"/b/{mail_user.address}/INBOX/1")
    with app.app_context():
        today = statistics.local_day(datetime.now(UTC))
    counts = _per_person(app, mail_user.address)
    assert counts[(today, "sign_ins")] == 1
    assert counts[(today, "messages_opened")] == 2


def test_sent_messages_count_messages_and_bytes_from_the_trace(app):
    actor = _person()
    with app.app_context():
        traces.record("message_sent", actor=actor, mailbox=actor, detail={"size": 2048})
        traces.record("message_sent", actor=actor, mailbox=actor, detail={"size": 1000})
        today = statistics.local_day(datetime.now(UTC))
    counts = _per_person(app, actor)
    assert counts[(today, "messages_sent")] == 2 and counts[(today, "bytes_sent")] == 3048


def test_per_person_counters_are_anonymised_after_three_months_and_not_before(app):
    now = datetime(2019, 6, 15, 10, 0, tzinfo=UTC)
    old, young = date(2019, 3, 14), date(2019, 3, 16)  # either side of 15 March
    alice, bruno = _person(), _person()
    with app.app_context():
        statistics.count_usage(alice, "messages_sent", 2, at=_noon(old))
        statistics.count_usage(bruno, "messages_sent", 3, at=_noon(old))
        statistics.count_usage(bruno, "sign_ins", at=_noon(old))
        statistics.count_usage(alice, "messages_sent", 5, at=_noon(young))

    dry = _cli(app, "retention", "run", "--now", now.isoformat(), "--dry-run")
    assert "would anonymise 3 per-person statistics rows (2 people, 1 days)" in dry.output
    assert _per_person(app, alice) == {(old, "messages_sent"): 2, (young, "messages_sent"): 5}

    result = _cli(app, "retention", "run", "--now", now.isoformat())
    assert result.exit_code == 0, result.output
    assert _per_person(app, alice) == {(young, "messages_sent"): 5}
    assert _per_person(app, bruno) == {}
    assert _anonymous(app, old) == {"messages_sent": 5, "sign_ins": 1, "active_users": 2}
    assert _anonymous(app, young) == {}


def test_patient_figures_are_anonymous_from_the_start(app):
    day = statistics.local_day(datetime.now(UTC))
    professional = _person()
    before = _anonymous(app, day).get("patient_link_opened", 0)
    with app.app_context():
        traces.record("patient_link_opened", actor=professional, mailbox=professional)
        statistics.count_anonymous("patient_link_opened")
        patients = db.session.scalars(select(UsageCounter.id).where(
            UsageCounter.metric.like("patient%"))).all()
    assert _anonymous(app, day)["patient_link_opened"] == before + 2
    assert patients == []
    assert _per_person(app, professional) == {}


def test_csv_export_gives_anonymous_daily_indicators_and_no_address(app, tmp_path):
    first, second = date(2018, 2, 1), date(2018, 2, 2)
    carla, dan = _person(), _person()
    with app.app_context():
        statistics.count_usage(carla, "messages_opened", 4, at=_noon(first))
        statistics.count_usage(dan, "messages_opened", 1, at=_noon(first))
        statistics.count_anonymous("patient_link_opened", 7, at=_noon(second))
        statistics.count_usage(carla, "messages_sent", at=_noon(date(2018, 1, 31)))
    target = tmp_path / "indicators.csv"
    result = _cli(app, "stats", "export", "--since", first.isoformat(), "--output", str(target))
    assert result.exit_code == 0, result.output
    text = target.read_text(encoding="utf-8")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["day", "metric", "value"]
    early = [row for row in rows[1:] if row[0] in ("2018-01-31", "2018-02-01", "2018-02-02")]
    assert early == [["2018-02-01", "active_users", "2"],
                     ["2018-02-01", "messages_opened", "5"],
                     ["2018-02-02", "patient_link_opened", "7"]]
    assert "@" not in text


def test_csv_export_refuses_a_date_it_cannot_read(app):
    result = _cli(app, "stats", "export", "--since", "last week")
    assert result.exit_code == 2 and "is not a date" in result.output


@pytest.mark.parametrize("metric, amount", [("Bad Name", 1), ("active_users", 1), ("ok", -1)])
def test_counters_refuse_names_and_amounts_that_make_no_sense(app, metric, amount):
    with app.app_context(), pytest.raises(ValueError):
        statistics.count_usage(_person(), metric, amount)
