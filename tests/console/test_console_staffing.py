"""The staffing page (/staffing) and its CSV (/staffing.csv): behind the login, figures from the
database, the CSV readable by the `csv` module, every value escaped."""
from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import re

import pytest

from bot.engagement.holiday_calendar import holiday_season
from bot.support import staffing
from tests.bot.test_staffing import add_message, add_ticket, at
from tests.console.conftest import Client, start_console

NASTY_NAME = '<script>window.pwned=1</script> & "Co"'


@pytest.fixture
def season_day(settings) -> dt.date:
    """Twelve days into this year's season."""
    return holiday_season(settings.today().year, settings).purchase_start + dt.timedelta(days=12)


@pytest.fixture
def staffing_console(store, settings, fake_rasa, season_day):
    """The console on the season's day, for a store whose name needs escaping."""
    on_the_day = dataclasses.replace(settings, today_override=season_day, store_name=NASTY_NAME)
    server = start_console(store, on_the_day, fake_rasa.url)
    yield server
    server.stop()


@pytest.fixture
def traffic(store, tracker_table, season_day):
    """Two conversations the day before, one handed to a person who claimed it after 3 minutes."""
    yesterday = season_day - dt.timedelta(days=1)
    add_message(store, "web:one", at(yesterday, 19, 0))
    add_message(store, "web:two", at(yesterday, 19, 30))
    add_ticket(store, "web:two", at(yesterday, 19, 35), claimed=at(yesterday, 19, 38), resolved=at(yesterday, 19, 50))
    return yesterday


@pytest.mark.parametrize("path", ["/staffing", "/staffing.csv"])
def test_staffing_needs_a_login(client, path):
    page = client.get(path)
    assert page.status in (302, 303) and page.location.startswith("/login")


def test_the_page_shows_the_seasons_traffic_and_the_forecast(staffing_console, accounts, traffic, season_day):
    agent = Client(staffing_console.url)
    agent.log_in("dana")

    page = agent.get("/staffing")

    assert page.status == 200
    text = page.text()
    assert "2 conversations" in text and "1 handed to a person (50.0%)" in text
    assert "3.0 min median wait for an agent" in text
    first = season_day - dt.timedelta(days=12)
    assert f"{first:%b %d, %Y} to {traffic:%b %d, %Y} (12 days)" in text
    for chart in ("chart-hour-traffic", "chart-hour-wait", "chart-day-traffic", "chart-day-wait", "chart-forecast"):
        assert f'<svg class="staffing-chart" id="{chart}"' in page.body
    assert re.findall(r"<tr><th>(\d\d):00</th>", page.body) == [f"{hour:02d}" for hour in range(24)]
    tomorrow = season_day + dt.timedelta(days=1)
    assert f"{tomorrow:%a %b %d}" in text
    assert 'href="/staffing.csv"' in page.body


def test_the_store_name_and_everything_else_is_escaped(staffing_console, accounts):
    agent = Client(staffing_console.url)
    agent.log_in("dana")
    page = agent.get("/staffing")
    assert "<script>window.pwned" not in page.body
    assert "&lt;script&gt;window.pwned=1&lt;/script&gt; &amp; &#34;Co&#34;" in page.body
    assert "<script" not in page.body  # the charts are drawn without any script (the CSP allows none)


def test_the_csv_is_an_attachment_the_csv_module_reads_back(staffing_console, accounts, traffic, season_day):
    agent = Client(staffing_console.url)
    agent.log_in("dana")

    answer = agent.get("/staffing.csv")

    assert answer.status == 200
    assert answer.headers["content-type"] == "text/csv; charset=utf-8"
    assert answer.headers["content-disposition"] == f'attachment; filename="staffing-{season_day.isoformat()}.csv"'
    rows = list(csv.DictReader(io.StringIO(answer.body, newline="")))
    history = {r["Date"]: r for r in rows if r["Row"] == "history"}
    forecast = [r for r in rows if r["Row"] == "forecast"]
    day = history[traffic.isoformat()]
    assert (day["Conversations"], day["Handoffs"], day["Median wait (min)"]) == ("2", "1", "3.0")
    assert len(history) == 12 and len(forecast) == staffing.FORECAST_DAYS * 24
    evening = next(r for r in forecast if r["Hour"] == "19" and
                   dt.date.fromisoformat(r["Date"]).weekday() == traffic.weekday())
    assert float(evening["Handoffs"]) > 0
    assert {r["Desk"] for r in forecast} <= {"open", "closed"}
