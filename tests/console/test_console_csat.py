"""The CSAT page: behind the login, figures from the ratings, comments escaped."""
from __future__ import annotations

import datetime as dt

from bot.support import csat
from tests.console.conftest import Client

T0 = dt.datetime(2026, 12, 4, 15, 0)


def rated(store, conversation: str, score: int, comment: str | None = None) -> None:
    with store.session() as s:
        csat.ask(s, conversation, T0)
        csat.rate(s, conversation, score, T0)
        if comment:
            csat.add_comment(s, conversation, comment, T0)


def test_the_csat_page_needs_a_login(client):
    page = client.get("/csat")
    assert page.status in (302, 303) and page.location.startswith("/login")


def test_the_csat_page_shows_the_figures_and_escapes_comments(store, accounts, console):
    rated(store, "web:one", 5, "<script>window.pwned=1</script> lovely")
    rated(store, "web:two", 2)
    agent = Client(console.url)
    agent.log_in("dana")

    page = agent.get("/csat")

    assert page.status == 200
    assert "<script>window.pwned" not in page.body
    assert "&lt;script&gt;" in page.body
    text = page.text()
    assert "bot only 2 3.50 50.0%" in text
    assert "2 asked so far" in text
