"""The staffing page in a real browser (issue #19): the console, started as `make run` starts it, on a
demo store seeded in December, so its history holds the demo season with Black Friday and Cyber
Monday. The charts and the forecast are drawn (screenshots in var/screenshots/, checked with
Pillow), nothing is wider than the screen, and the CSV download reads back with `csv`."""
from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import os
import sys

import pytest
from PIL import Image

from bot.engagement.holiday_calendar import cyber_monday
from bot.settings import load_settings
from bot.support import accounts as agents, staffing
from bot.web.console import staffing_charts
from tests.browser.conftest import DESKTOP, PHONE
from tests.servers import ROOT, ServerProcess, free_port, seeded_demo_store

SCREENSHOTS = ROOT / "var" / "screenshots"
LOGIN = ("staffing.viewer", "staffing-viewer-password")
CHARTS = ("chart-hour-traffic", "chart-hour-wait", "chart-day-traffic", "chart-day-wait", "chart-forecast")
# Each chart's own colours, which a drawn chart shows (the frame alone is greys).
CHART_COLOURS = {
    "chart-hour-traffic": (staffing_charts.CONVERSATIONS_COLOUR, staffing_charts.HANDOFFS_COLOUR),
    "chart-hour-wait": (staffing_charts.WAIT_COLOUR,),
    "chart-day-traffic": (staffing_charts.CONVERSATIONS_COLOUR, staffing_charts.HANDOFFS_COLOUR),
    "chart-day-wait": (staffing_charts.WAIT_COLOUR,),
    "chart-forecast": (staffing_charts.AGENTS_COLOUR,),
}


class ConsoleServer(ServerProcess):
    """`python -m bot console` on the store's database and date."""

    name = "agents' console"
    ready_path = "/login"

    def __init__(self, database_url: str, today: dt.date, log_path):
        port = free_port()
        env = {**os.environ, "DATABASE_URL": database_url, "TINSEL_TODAY": today.isoformat()}
        super().__init__([sys.executable, "-m", "bot", "console", "--host", "127.0.0.1", "--port", str(port)],
                         port=port, env=env, log_path=log_path)


@pytest.fixture(scope="module")
def season_day() -> dt.date:
    """A December day of this year's season, after its Black Friday and Cyber Monday."""
    return cyber_monday(load_settings().today().year) + dt.timedelta(days=11)


@pytest.fixture(scope="module")
def staffing_console(tmp_path_factory, season_day):
    workdir = tmp_path_factory.mktemp("staffing")
    store = seeded_demo_store(workdir / "demo-store.db", today=season_day)
    settings = dataclasses.replace(load_settings(), today_override=season_day)
    with store.session() as s:
        agents.add_account(s, LOGIN[0], "agent", settings.agent_refund_limit, LOGIN[1], settings)
    server = ConsoleServer(store.url, season_day, workdir / "console.log")
    yield server
    server.stop()
    store.dispose()


def open_staffing(page, server):
    page.goto(server.base_url + "/staffing")
    assert page.url.endswith("/login")
    page.get_by_label("Username").fill(LOGIN[0])
    page.get_by_label("Password").fill(LOGIN[1])
    page.get_by_role("button", name="Log in").click()
    page.goto(server.base_url + "/staffing")
    page.locator("#forecast").wait_for()


def rgb(colour: str) -> tuple[int, int, int]:
    return tuple(int(colour[i:i + 2], 16) for i in (1, 3, 5))


def near(pixel, colour, tolerance=40) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(pixel, colour))


def check_drawn(path, colours) -> None:
    """The screenshot of a chart is not blank and shows each of its series' colours."""
    image = Image.open(path).convert("RGB")
    found = image.getcolors(maxcolors=1_000_000)
    assert found is not None and len(found) > 10, f"{path.name} is blank"
    for colour in colours:
        share = sum(n for n, pixel in found if near(pixel, rgb(colour))) / (image.width * image.height)
        assert share > 0.002, f"{path.name} shows almost nothing in {colour}"


def test_the_staffing_page_draws_the_demo_season_and_the_forecast(staffing_console, new_page):
    page = new_page(**DESKTOP)
    open_staffing(page, staffing_console)
    width = DESKTOP["viewport"]["width"]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "console-staffing-desktop.png"), full_page=True)

    for chart in CHARTS:
        locator = page.locator(f"svg#{chart}")
        locator.scroll_into_view_if_needed()
        assert locator.is_visible()
        box = locator.bounding_box()
        assert box["width"] > 300 and box["height"] > 100 and box["x"] + box["width"] <= width, (chart, box)
        path = SCREENSHOTS / f"console-staffing-{chart}.png"
        locator.screenshot(path=str(path))
        check_drawn(path, CHART_COLOURS[chart])

    table = page.locator("#forecast")
    table.scroll_into_view_if_needed()
    assert table.is_visible()
    assert page.locator("#forecast tbody tr").count() == 24
    assert page.locator("#forecast thead th").count() == 1 + staffing.FORECAST_DAYS
    agents_needed = [int(t) for t in page.locator("#forecast td:not(.staffing-closed)").all_inner_texts()]
    assert max(agents_needed) >= 2, "a demo season busy enough to need more than one agent an hour"
    assert page.locator("#forecast td.staffing-closed").count() > 0
    table.screenshot(path=str(SCREENSHOTS / "console-staffing-forecast-table.png"))
    check_drawn(SCREENSHOTS / "console-staffing-forecast-table.png", ())
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def test_the_staffing_page_fits_a_phone(staffing_console, new_page):
    """The page's own content fits; the forecast table scrolls inside its panel. (The console's
    header bar is shared by every page and is not this page's to fit.)"""
    page = new_page(**PHONE)
    open_staffing(page, staffing_console)
    page.screenshot(path=str(SCREENSHOTS / "console-staffing-phone.png"), full_page=True)
    width = PHONE["viewport"]["width"]
    assert page.evaluate("document.querySelector('main').scrollWidth <= document.querySelector('main').clientWidth")
    for chart in CHARTS:
        box = page.locator(f"svg#{chart}").bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= width, (chart, box)


def test_the_csv_download_reads_back(staffing_console, new_page, season_day):
    page = new_page(**DESKTOP, accept_downloads=True)
    open_staffing(page, staffing_console)
    with page.expect_download() as download:
        page.locator("#staffing-csv").click()
    assert download.value.suggested_filename == f"staffing-{season_day.isoformat()}.csv"
    rows = list(csv.DictReader(io.StringIO(open(download.value.path(), encoding="utf-8", newline="").read())))
    forecast = [r for r in rows if r["Row"] == "forecast"]
    history = [r for r in rows if r["Row"] == "history"]
    assert len(forecast) == staffing.FORECAST_DAYS * 24
    assert forecast[0]["Date"] == (season_day + dt.timedelta(days=1)).isoformat()
    assert history[-1]["Date"] == (season_day - dt.timedelta(days=1)).isoformat()
    assert max(int(r["Conversations"]) for r in history) > 2 * min(int(r["Conversations"]) for r in history)
