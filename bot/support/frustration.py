"""Spotting a shopper who is fed up, so they reach a person before they have to ask twice."""
from __future__ import annotations

import re

_FED_UP = re.compile(
    r"\b(ridiculous|unacceptable|useless|terrible|awful|worst|furious|angry|fed up|sick of|"
    r"waste of (my )?time|joke|pathetic|scam|rip[- ]?off|garbage|disgusting|stupid bot|"
    r"not helping|doesn'?t help|never again|lawyer|chargeback|report you)\b",
    re.IGNORECASE,
)


def is_frustrated(text: str | None) -> bool:
    """True for messages that read as anger rather than a question."""
    if not text:
        return False
    text = text[:2000]
    letters = [c for c in text if c.isalpha()]
    shouting = len(letters) >= 12 and sum(c.isupper() for c in letters) / len(letters) > 0.7
    return bool(_FED_UP.search(text)) or shouting or "!!!" in text
