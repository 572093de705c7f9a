"""Issue #17: the tests' settings are the committed defaults plus what the test run sets, never
the developer's own `.env` (tests/conftest.py, servers.use_test_environment()), in this process
and in the servers the tests start; and the shared stack's date is chosen from the settings.

A developer's `.env` is stood in for by one in a temporary directory (bot.settings reads
PROJECT_ROOT/.env): the real one is never touched."""
from __future__ import annotations

import dataclasses
import datetime as dt
import os
import subprocess
import sys
from decimal import Decimal

import pytest

import bot.settings
from bot.engagement import holiday_calendar
from bot.settings import load_settings
from tests import servers

DEVELOPERS_ENV = """\
BOT_REFUND_LIMIT=5.00
AGENT_REFUND_LIMIT=6.00
DATABASE_URL=postgresql://someone@db.example/production
TINSEL_TODAY=2031-07-04
STANDARD_RETURN_DAYS=3
BIRTHDAY_OFFER_WINDOW_DAYS=0
TINSEL_API_TOKEN=the-developers-own-token
"""


def committed_defaults():
    """The built-in defaults with this run's generated secrets."""
    return dataclasses.replace(load_settings({}), api_token=os.environ["TINSEL_API_TOKEN"],
                               action_server_token=os.environ["ACTION_SERVER_TOKEN"])


@pytest.fixture
def developers_env(tmp_path, monkeypatch):
    """A `.env` with other policy values where load_settings looks for one."""
    (tmp_path / ".env").write_text(DEVELOPERS_ENV)
    monkeypatch.setattr(bot.settings, "PROJECT_ROOT", tmp_path)
    before = dict(os.environ)
    yield tmp_path
    os.environ.clear()
    os.environ.update(before)


def test_the_settings_fixture_is_the_committed_defaults(settings):
    assert settings == committed_defaults()
    assert settings.bot_refund_limit == Decimal("75.00") and settings.today_override is None


def test_a_developers_env_changes_nothing_in_the_test_process(developers_env, settings):
    bot.settings.get_settings.cache_clear()
    try:
        for read in (load_settings(), bot.settings.get_settings(), settings):
            assert read == committed_defaults()
    finally:
        bot.settings.get_settings.cache_clear()
    assert os.environ["BOT_REFUND_LIMIT"] == "75.00"


def test_a_developers_env_changes_nothing_in_the_servers_the_tests_start(developers_env):
    """A server process gets the test run's environment (as ActionServer, RasaServer... pass it),
    which wins over the `.env` it loads."""
    script = ("import sys, bot.settings as s; from pathlib import Path; s.PROJECT_ROOT = Path(sys.argv[1]); "
              "c = s.load_settings(); print(c.bot_refund_limit, c.agent_refund_limit, c.standard_return_days, "
              "c.today_override, c.database_url == s.load_settings({}).database_url, c.api_token)")
    out = subprocess.run([sys.executable, "-c", script, str(developers_env)], cwd=servers.ROOT, env=dict(os.environ),
                         capture_output=True, text=True, check=True).stdout.split()
    assert out == ["75.00", "2000.00", "30", "None", "True", os.environ["TINSEL_API_TOKEN"]]


def test_the_stand_in_env_would_change_settings_outside_the_test_environment(developers_env):
    """The check above means something: without the test environment the file is read."""
    script = ("import sys, bot.settings as s; from pathlib import Path; s.PROJECT_ROOT = Path(sys.argv[1]); "
              "print(s.load_settings().bot_refund_limit)")
    bare = {name: value for name, value in os.environ.items() if name not in servers.settings_defaults()}
    out = subprocess.run([sys.executable, "-c", script, str(developers_env)], cwd=servers.ROOT, env=bare,
                         capture_output=True, text=True, check=True).stdout.strip()
    assert out == "5.00"


def test_every_setting_is_pinned_in_the_test_environment():
    defaults = servers.settings_defaults()
    assert {"BOT_REFUND_LIMIT", "DATABASE_URL", "TINSEL_TODAY", "BIRTHDAY_OFFER_WINDOW_DAYS"} <= set(defaults)
    secrets = {"TINSEL_API_TOKEN", "ACTION_SERVER_TOKEN"}
    for name, value in defaults.items():
        assert os.environ[name] == value or name in secrets, name
    for name in secrets:
        assert os.environ[name].startswith("test-"), "secrets are generated for the run"


def test_env_example_holds_the_built_in_defaults():
    """.env.example's values (its uncommented lines) are the defaults the tests run on."""
    example = {}
    for line in (servers.ROOT / ".env.example").read_text().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, value = line.split("=", 1)
            example[name.strip()] = value.strip()
    assert example and set(example) <= set(servers.settings_defaults())
    assert load_settings(example) == load_settings({})


def test_the_stacks_date_comes_before_the_sale_with_a_personal_touch_due():
    day = servers.stack_today()
    config = dataclasses.replace(load_settings(dict(os.environ)), today_override=day)
    sale = holiday_calendar.holiday_sale(day, config)
    assert sale.status == "upcoming" and sale.days_until_start >= 1


@pytest.mark.parametrize("real_day", [
    # every month, and the days around the sale (Black Friday .. Cyber Monday) of two years
    *(dt.date(2026, month, 15) for month in range(1, 13)),
    *(dt.date(2026, 11, 26) + dt.timedelta(days=n) for n in range(6)),
    dt.date(2027, 11, 25), dt.date(2027, 11, 26), dt.date(2027, 11, 29), dt.date(2027, 12, 31),
])
def test_the_stacks_date_works_whatever_the_real_date(real_day):
    config = dataclasses.replace(load_settings(dict(os.environ)), today_override=real_day)
    day = servers.stack_date_for(config)
    on_day = dataclasses.replace(config, today_override=day)
    assert holiday_calendar.holiday_sale(day, on_day).status == "upcoming"
    assert day <= holiday_calendar.holiday_sale(real_day, config).start
    assert (real_day - day).days < 366 and (day - real_day).days < 366


def test_a_demo_customer_is_due_a_personal_touch_on_the_stacks_date(tmp_path):
    store = servers.seeded_demo_store(tmp_path / "demo.db", today=servers.stack_today())
    try:
        on_day = dataclasses.replace(load_settings(dict(os.environ)), today_override=servers.stack_today())
        assert servers.personal_touch_order(store, on_day) is not None
    finally:
        store.dispose()
