import json
import re

import pytest

from bot.settings import load_settings
from bot.web.webchat import WidgetMissing, create_app, page_html


def widget_config(page: str) -> dict:
    return json.loads(re.search(r'<script id="widget-config" type="application/json">(.*?)</script>', page).group(1))


def test_the_page_connects_the_widget_to_rasa_url_from_settings():
    page = page_html(load_settings({"RASA_URL": "https://chat.example.com/"}))
    assert widget_config(page)["socketUrl"] == "https://chat.example.com"
    assert 'name="viewport"' in page


def test_a_store_name_cannot_break_out_of_the_page():
    page = page_html(load_settings({"STORE_NAME": "Bob's </script><script>alert(1)</script> & Co."}))
    assert "<script>alert(1)" not in page
    assert widget_config(page)["title"] == "Bob's </script><script>alert(1)</script> & Co."
    assert "<h1>Bob&#x27;s &lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co.</h1>" in page


def test_without_the_installed_widget_the_server_says_how_to_install_it(monkeypatch, tmp_path):
    monkeypatch.setattr("bot.web.webchat.WIDGET_BUNDLE", tmp_path / "missing.js")
    with pytest.raises(WidgetMissing, match="make widget"):
        create_app(load_settings({}))


def test_the_page_forbids_inline_scripts_and_javascript_links():
    """A `javascript:` link in a message (or an injected script) cannot run under this policy:
    scripts only from the page's own files, no 'unsafe-inline' for them."""
    from bot.web.webchat import content_security_policy

    policy = content_security_policy(load_settings({"RASA_URL": "https://chat.example.com"}))
    directives = dict(d.split(" ", 1) for d in policy.split("; "))
    assert directives["script-src"] == "'self'"
    assert "wss://chat.example.com" in directives["connect-src"]
    assert directives["frame-ancestors"] == "'none'" and directives["object-src"] == "'none'"
    assert "<script>" not in page_html(load_settings({})).replace("<script src=", "")
