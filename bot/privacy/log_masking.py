"""Keeps shoppers' personal data out of the logs.

Rasa, the action server and our own code log messages that can quote what a shopper typed
(emails, phone numbers, card numbers, addresses). Logs are copied, shipped and kept far longer
than the database, so they are masked as they are written. Order numbers (5-12 bare digits)
stay readable: support needs them and they are not personal data on their own.
"""
from __future__ import annotations

import logging
import re

_EMAIL = re.compile(r"\b([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9.-]+\.[A-Za-z]{2,})\b")
# 13-19 digits, optionally grouped by single spaces or dashes (card numbers).
_CARD = re.compile(r"(?<![\w-])\d(?:[ -]?\d){12,18}(?![\w-])")
# Phone numbers: an international +CC form, a (area) code, or a leading-0 national number;
# each must be split by separators, so a bare run of digits (an order number) never matches.
_PHONE = re.compile(
    r"(?<![\w+])(?:"
    r"\+\d{1,3}[ .-]?(?:\(\d{1,4}\)[ .-]?)?\d{2,4}(?:[ .-]?\d{2,4}){1,3}"
    r"|\(\d{2,4}\)[ .-]?\d{3,4}[ .-]?\d{3,4}"
    r"|0\d{3,4}[ .-]\d{3,7}(?:[ .-]\d{3,4})?"
    r"|\d{3}[ .-]\d{3}[ .-]\d{4}"
    r")(?!\w)"
)
_STREET_TYPES = (
    r"Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Way|Place|Pl|"
    r"Terrace|Close|Crescent|Square|Sq|Parkway|Pkwy|Highway|Hwy"
)
_ADDRESS = re.compile(
    r"\b\d{1,5}[A-Za-z]?\s+(?:[A-Z][A-Za-z'-]*\s+){1,4}(?:" + _STREET_TYPES + r")\b\.?"
    r"(?:,?\s+(?:Apt|Apartment|Suite|Unit|Flat|#)\.?\s*\w+)?"
)


def _mask_email(match: re.Match) -> str:
    return f"{match.group(1)}***@{match.group(2)}"


def mask_text(text: str) -> str:
    """`text` with emails, card numbers, phone numbers and street addresses masked."""
    text = _EMAIL.sub(_mask_email, text)
    text = _CARD.sub("[card]", text)
    text = _PHONE.sub("[phone]", text)
    return _ADDRESS.sub("[address]", text)


class MaskingFilter(logging.Filter):
    """Replaces a record's message by its masked, already formatted text."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: leave it to logging's own error report
            return True
        masked = mask_text(message)
        if masked != message or record.args:
            record.msg, record.args = masked, None
        return True


def mask_logs() -> None:
    """Masks every record the root logger writes, and the handlers of every logger configured so
    far (Sanic gives its loggers their own handlers when an app is created, so call this after
    building the app). Records logged on the root logger itself are masked too. Safe to call twice."""
    root = logging.getLogger()
    loggers = [root, *(x for x in logging.Logger.manager.loggerDict.values() if isinstance(x, logging.Logger))]
    for target in (root, *(h for logger in loggers for h in logger.handlers)):
        if not any(isinstance(f, MaskingFilter) for f in target.filters):
            target.addFilter(MaskingFilter())
