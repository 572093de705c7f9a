import pytest

from bot.privacy.safe_links import is_safe_url, safe_message, safe_text

UNSAFE = ["javascript:alert(1)", "JaVaScRiPt:alert(1)", " javascript:alert(1)", "java\tscript:alert(1)",
          "javascript&#58;alert(1)", "javascript&amp;#58;alert(1)", "vbscript:msgbox(1)",
          "data:text/html;base64,PHNjcmlwdD4=", "file:///etc/passwd", "\x01javascript:alert(1)"]
SAFE = ["https://www.ups.com/track?tracknum=1Z999", "http://localhost:8080/", "mailto:help@tinsel.example",
        "/products/robot-kit", "https://shop.tinsel.example/products/a(b)"]


@pytest.mark.parametrize("url", UNSAFE)
def test_other_schemes_are_unsafe_however_they_are_written(url):
    assert not is_safe_url(url)
    text = safe_text(f"Your refund: [click here]({url}) now")
    assert text == "Your refund: click here now"
    assert "javascript:" not in safe_text(f"see <{url}>").lower().replace(" ", "")


@pytest.mark.parametrize("url", SAFE[:4])
def test_store_links_are_kept_as_they_are(url):
    assert is_safe_url(url)
    text = f"Track it here: [{url}]({url}) or write to us."
    assert safe_text(text) == text


def test_a_bare_script_url_is_not_left_linkable():
    assert "javascript:" not in safe_text("copy javascript:alert(document.cookie) into the bar").lower()


def test_buttons_and_media_lose_unsafe_targets_only():
    message = {"text": "[x](javascript:alert(1))", "image": "data:image/svg+xml,<svg onload=alert(1)>",
               "buttons": [{"title": "Track", "url": "https://ups.com/t"}, {"title": "Evil", "url": "javascript:x"},
                           {"title": "Yes", "payload": "/affirm"}]}
    safe = safe_message(message)
    assert safe["text"] == "x" and "image" not in safe
    assert safe["buttons"] == [{"title": "Track", "url": "https://ups.com/t"}, {"title": "Evil"},
                               {"title": "Yes", "payload": "/affirm"}]
    assert message["text"] == "[x](javascript:alert(1))"  # the original is left alone
