"""The web chat's message metadata comes from the browser: it may not name the throttle's client."""
from channels.socketio import metadata_of


def test_a_browser_cannot_choose_its_throttle_client():
    assert metadata_of({"customData": {"client": "someone-else", "language": "en"}}, "customData") == {"language": "en"}
    assert metadata_of({"customData": '{"client": "x"}'}, "customData") == {}
    assert metadata_of({"customData": "[1, 2]"}, "customData") == {}
    assert metadata_of({}, "customData") == {}
