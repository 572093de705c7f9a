"""Only http(s) and mailto links reach shoppers.

A bot message is rendered as Markdown by the web chat and as links by Slack and Telegram, so a
`javascript:` (or `data:`, `vbscript:`...) link in one, pasted by an agent or carried in from a
store's own data, would run in the shopper's page when clicked. Links with any other scheme
keep their words and lose their target. Browsers ignore blanks and control characters inside a
scheme and decode entities, so the check does too.
"""
from __future__ import annotations

import html
import re
from typing import Any

SAFE_SCHEMES = frozenset({"http", "https", "mailto"})

_SCHEME = re.compile(r"^([a-z][a-z0-9+.\-]*):")
_IGNORED_IN_URLS = re.compile(r"[\x00-\x20\x7f]+")
# [words](target "title"), the target allowed one level of balanced parentheses as Markdown does.
_MARKDOWN_LINK = re.compile(r"\[([^\]]*)\]\(((?:[^()]|\([^()]*\))*)\)")
_AUTOLINK = re.compile(r"<([a-zA-Z][a-zA-Z0-9+.\-]*:[^>\s]*)>")
_BARE_UNSAFE_SCHEME = re.compile(r"\b(?:javascript|vbscript|data|file)\s*:", re.IGNORECASE)


def is_safe_url(url: Any) -> bool:
    """An http(s) or mailto URL, or one without a scheme (relative to the page)."""
    if not isinstance(url, str):
        return False
    target = _IGNORED_IN_URLS.sub("", html.unescape(html.unescape(url))).lower()
    scheme = _SCHEME.match(target)
    return scheme is None or scheme.group(1) in SAFE_SCHEMES


def safe_text(text: str) -> str:
    """`text` with every link whose target is not safe reduced to its words."""
    def markdown_link(match: re.Match) -> str:
        label, target = match.group(1), match.group(2)
        return match.group(0) if is_safe_url(target) else label

    text = _MARKDOWN_LINK.sub(markdown_link, text)
    text = _AUTOLINK.sub(lambda m: m.group(0) if is_safe_url(m.group(1)) else m.group(1), text)
    # What is left is plain text; a bare "javascript:" loses its colon so no renderer links it.
    return _BARE_UNSAFE_SCHEME.sub(lambda m: m.group(0).rstrip(": \t") + " ", text)


def safe_message(message: dict[str, Any]) -> dict[str, Any]:
    """A bot message as a channel sends it, with its text, buttons and media made safe."""
    safe = dict(message)
    if isinstance(safe.get("text"), str):
        safe["text"] = safe_text(safe["text"])
    if isinstance(safe.get("buttons"), list):
        safe["buttons"] = [_safe_button(button) for button in safe["buttons"]]
    for key in ("image", "attachment"):
        if isinstance(safe.get(key), str) and not is_safe_url(safe[key]):
            del safe[key]
    return safe


def _safe_button(button: Any) -> Any:
    if not isinstance(button, dict):
        return button
    button = dict(button)
    if "url" in button and not is_safe_url(button["url"]):
        del button["url"]
    if isinstance(button.get("title"), str):
        button["title"] = safe_text(button["title"])
    return button
