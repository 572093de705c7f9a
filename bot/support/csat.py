"""Customer satisfaction (CSAT): "how did we do?", asked once per conversation, and its figures.

Asked when a person resolved the shopper's ticket and at the end of a conversation the bot
handled alone; a rating 1-5, then an optional comment. A conversation is asked at most once
(a unique row), and a rating counts only as the answer to that question: a shopper typing
`/rate_conversation{"csat_score": 5}` unasked, or twice, changes nothing.
"""
from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.store.models import CsatSurvey, HandoffTicket

SCORES = range(1, 6)
SATISFIED = (4, 5)  # the share of these is the CSAT score support teams quote
MAX_COMMENT_CHARS = 1000
BOT = "bot"
_NO_COMMENT = re.compile(r"^\s*(no+|nope|nah|nothing|no thanks?|no thank you|none|all good|n/?a|-)\s*[.!]*\s*$", re.I)


def ask(session: Session, conversation_id: str, now: dt.datetime) -> bool:
    """Records that the conversation is asked; False if it was asked before (say nothing)."""
    if survey_of(session, conversation_id) is not None:
        return False
    ticket = session.execute(
        select(HandoffTicket)
        .where(HandoffTicket.conversation_id == conversation_id, HandoffTicket.status == "resolved")
        .order_by(HandoffTicket.id.desc())
    ).scalars().first()
    survey = CsatSurvey(
        conversation_id=conversation_id,
        handled_by=(ticket.assigned_to or "agent") if ticket is not None else BOT,
        ticket_id=ticket.id if ticket is not None else None,
        asked_at=now,
    )
    try:
        with session.begin_nested():  # asked twice at once: one of them asks
            session.add(survey)
            session.flush()
    except IntegrityError:
        return False
    return True


def survey_of(session: Session, conversation_id: str) -> CsatSurvey | None:
    return session.execute(
        select(CsatSurvey).where(CsatSurvey.conversation_id == conversation_id).with_for_update()
    ).scalar_one_or_none()


def parse_score(value) -> int | None:
    """1-5 from a button or typed ("5", "5 stars", 4.0); anything else is None."""
    match = re.search(r"-?\d+", str(value if value is not None else ""))
    score = int(match.group()) if match else None
    return score if score in SCORES else None


def rate(session: Session, conversation_id: str, value, now: dt.datetime) -> str:
    """rated | invalid | not_asked | already_rated."""
    score = parse_score(value)
    if score is None:
        return "invalid"
    survey = survey_of(session, conversation_id)
    if survey is None:
        return "not_asked"
    if survey.score is not None:
        return "already_rated"
    survey.score, survey.rated_at = score, now
    return "rated"


def add_comment(session: Session, conversation_id: str, text: str | None, now: dt.datetime) -> bool:
    """Keeps the shopper's comment on their rating (once; "no" keeps none); True if kept."""
    survey = survey_of(session, conversation_id)
    if survey is None or survey.score is None or survey.commented_at is not None:
        return False
    survey.commented_at = now
    text = (text or "").strip()
    if not text or _NO_COMMENT.match(text) or text.startswith("/"):  # "/": a button's payload, not words
        return False
    survey.comment = text[:MAX_COMMENT_CHARS]
    return True


@dataclass(frozen=True)
class Figures:
    label: str
    rated: int
    average: float
    satisfied_share: float  # of ratings, the share of 4 and 5


@dataclass(frozen=True)
class CsatReport:
    by_day: list[Figures]
    by_agent: list[Figures]
    by_handling: list[Figures]  # bot only vs handed off
    asked: int
    comments: list[tuple[dt.datetime, str, int, str]]  # (rated at, handled by, score, comment), newest first


def report(session: Session, recent_comments: int = 20) -> CsatReport:
    """CSAT by day, by agent, and bot-only vs handed off, from every rating."""
    surveys = session.execute(select(CsatSurvey).order_by(CsatSurvey.id)).scalars().all()
    rated = [s for s in surveys if s.score is not None]
    by_day, by_agent, by_handling = defaultdict(list), defaultdict(list), defaultdict(list)
    for survey in rated:
        by_day[survey.rated_at.date().isoformat()].append(survey.score)
        by_handling["bot only" if survey.handled_by == BOT else "handed off"].append(survey.score)
        if survey.handled_by != BOT:
            by_agent[survey.handled_by].append(survey.score)
    commented = sorted((s for s in rated if s.comment), key=lambda s: s.rated_at, reverse=True)
    return CsatReport(
        by_day=[_figures(day, scores) for day, scores in sorted(by_day.items())],
        by_agent=[_figures(agent, scores) for agent, scores in sorted(by_agent.items())],
        by_handling=[_figures(kind, scores) for kind, scores in sorted(by_handling.items())],
        asked=len(surveys),
        comments=[(s.rated_at, s.handled_by, s.score, s.comment) for s in commented[:recent_comments]],
    )


def _figures(label: str, scores: list[int]) -> Figures:
    return Figures(label, len(scores), round(sum(scores) / len(scores), 2),
                   round(sum(score in SATISFIED for score in scores) / len(scores), 3))
