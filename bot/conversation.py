"""The conversation a request comes from: who is talking, on which channel, and what was said.

Built once at the edge (the Rasa action adapter reads it from the tracker) and passed down as
one value, so a refund or a ticket records where it came from without three loose parameters
travelling through every signature.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

# The conversation so far as [{"who", "text"}, ...] lines, or already as JSON text.
Transcript = Sequence[dict[str, Any]] | str | None


@dataclass(frozen=True)
class Conversation:
    id: str  # the Rasa sender id; order verifications and tickets belong to it
    channel: str = "unknown"  # socketio, telegram, rest...: where an agent finds the shopper
    transcript: Transcript = None  # kept on a ticket for the person who takes over
