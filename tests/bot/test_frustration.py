import pytest

from bot.support.frustration import is_frustrated


@pytest.mark.parametrize("text", [
    "This is ridiculous, my order is a week late",
    "WHERE IS MY PARCEL I NEED IT NOW",
    "you are a useless bot, get me a person",
    "third time asking!!! where is it",
])
def test_anger_is_spotted(text):
    assert is_frustrated(text)


@pytest.mark.parametrize("text", [
    "where is my order?", "Can I return a sweater", "OK", "", None, "I need it by Dec 24, thanks",
])
def test_ordinary_messages_are_not_frustration(text):
    assert not is_frustrated(text)
