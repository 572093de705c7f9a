"""Understands a free-text gift request: who it is for, their age, what they like, the budget.

    parse_gift_request("something for my 10 year old niece who loves art, under $40", vocab)
    -> relationship="niece", age=10, interests=["art"], budget=Decimal("40.00")

Rules, not a model: every sentence shape handled is listed in the tests. Entities a pipeline
already extracted (spaCy MONEY / CARDINAL / DATE) are used only where the rules find nothing,
so the parser works the same with or without them. `expecting` says which question the
message answers ("age", "budget", "interests"), so a bare "10" or "no idea" is understood.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from typing import Iterable, Mapping

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.store.models import ProductTag

MAX_INPUT_CHARS = 1000
# Used to filter products for grown-ups whose age nobody gave ("for my wife").
ASSUMED_ADULT_AGE = 30

# surface word -> (canonical relationship, pronoun: she | he | they, adult?)
_RELATIONSHIPS = {
    "mother-in-law": ("mother-in-law", "she", True),
    "father-in-law": ("father-in-law", "he", True),
    "sister-in-law": ("sister-in-law", "she", True),
    "brother-in-law": ("brother-in-law", "he", True),
    "best friend": ("best friend", "they", False),
    "granddaughter": ("granddaughter", "she", False),
    "grandson": ("grandson", "he", False),
    "grandkid": ("grandchild", "they", False),
    "grandchild": ("grandchild", "they", False),
    "grandmother": ("grandmother", "she", True),
    "grandma": ("grandmother", "she", True),
    "granny": ("grandmother", "she", True),
    "nana": ("grandmother", "she", True),
    "grandfather": ("grandfather", "he", True),
    "grandpa": ("grandfather", "he", True),
    "granddad": ("grandfather", "he", True),
    "grandad": ("grandfather", "he", True),
    "goddaughter": ("goddaughter", "she", False),
    "godson": ("godson", "he", False),
    "stepdaughter": ("stepdaughter", "she", False),
    "stepson": ("stepson", "he", False),
    "niece": ("niece", "she", False),
    "nephew": ("nephew", "he", False),
    "daughter": ("daughter", "she", False),
    "son": ("son", "he", False),
    "mother": ("mother", "she", True),
    "mom": ("mother", "she", True),
    "mum": ("mother", "she", True),
    "mommy": ("mother", "she", True),
    "father": ("father", "he", True),
    "dad": ("father", "he", True),
    "daddy": ("father", "he", True),
    "wife": ("wife", "she", True),
    "husband": ("husband", "he", True),
    "girlfriend": ("girlfriend", "she", True),
    "boyfriend": ("boyfriend", "he", True),
    "fiancée": ("fiancée", "she", True),
    "fiancee": ("fiancée", "she", True),
    "fiancé": ("fiancé", "he", True),
    "fiance": ("fiancé", "he", True),
    "partner": ("partner", "they", True),
    "sister": ("sister", "she", False),
    "brother": ("brother", "he", False),
    "aunt": ("aunt", "she", True),
    "auntie": ("aunt", "she", True),
    "uncle": ("uncle", "he", True),
    "cousin": ("cousin", "they", False),
    "friend": ("friend", "they", False),
    "coworker": ("coworker", "they", True),
    "co-worker": ("coworker", "they", True),
    "colleague": ("coworker", "they", True),
    "boss": ("boss", "they", True),
    "teacher": ("teacher", "they", True),
    "neighbor": ("neighbor", "they", True),
    "neighbour": ("neighbor", "they", True),
    "girl": ("girl", "she", False),
    "boy": ("boy", "he", False),
    "kid": ("child", "they", False),
    "child": ("child", "they", False),
}
_RELATIONSHIP_RE = re.compile(
    r"\b(" + "|".join(re.escape(w) for w in sorted(_RELATIONSHIPS, key=len, reverse=True)) + r")s?\b"
)

# Words shoppers use -> the catalog's interest tag. A word that is itself a catalog tag stays
# that tag ("baking" where the catalog has it, "cooking" where it does not).
INTEREST_SYNONYMS = {
    "drawing": "art",
    "painting": "art",
    "paint": "art",
    "draw": "art",
    "sketching": "art",
    "coloring": "art",
    "colouring": "art",
    "artist": "art",
    "arts and crafts": "crafts",
    "crafting": "crafts",
    "knitting": "crafts",
    "sewing": "crafts",
    "soccer": "football",
    "video games": "gaming",
    "video game": "gaming",
    "gamer": "gaming",
    "gaming": "gaming",
    "xbox": "gaming",
    "playstation": "gaming",
    "nintendo": "gaming",
    "board games": "games",
    "board game": "games",
    "card games": "games",
    "baking": "cooking",
    "cook": "cooking",
    "chef": "cooking",
    "kitchen": "cooking",
    "books": "reading",
    "book": "reading",
    "reader": "reading",
    "bookworm": "reading",
    "novels": "reading",
    "guitar": "music",
    "piano": "music",
    "singing": "music",
    "musician": "music",
    "dinosaur": "dinosaurs",
    "dino": "dinosaurs",
    "dinos": "dinosaurs",
    "astronomy": "space",
    "planets": "space",
    "rockets": "space",
    "astronaut": "space",
    "experiments": "science",
    "chemistry": "science",
    "stem": "science",
    "lego": "building",
    "legos": "building",
    "hiking": "outdoors",
    "camping": "outdoors",
    "nature": "outdoors",
    "plants": "gardening",
    "garden": "gardening",
    "gym": "fitness",
    "yoga": "fitness",
    "runner": "fitness",
    "marathon": "fitness",
    "workout": "fitness",
    "animals": "pets",
    "dog": "pets",
    "cat": "pets",
    "puppy": "pets",
    "kitten": "pets",
    "horse": "pets",
    "baker": "baking",
    "sweets": "chocolate",
    "candy": "chocolate",
    "sweet tooth": "chocolate",
    "self-care": "wellness",
    "self care": "wellness",
    "spa": "wellness",
    "meditation": "wellness",
    "relaxing": "wellness",
    "bike": "cycling",
    "biking": "cycling",
    "cyclist": "cycling",
    "traveling": "travel",
    "travelling": "travel",
    "traveler": "travel",
    "traveller": "travel",
    "photographer": "photography",
    "jewelry": "fashion",
    "jewellery": "fashion",
    "makeup": "beauty",
    "skincare": "wellness",
    "gadgets": "tech",
    "technology": "tech",
    "coding": "tech",
    "photos": "photography",
    "camera": "photography",
    "puzzle": "puzzles",
    "jigsaw": "puzzles",
    "espresso": "coffee",
    "sport": "sports",
    "sports": "sports",
    "tea": "tea",
    "wine": "wine",
}

_NO_IDEA_RE = re.compile(
    r"\b(no idea|not sure|no clue|don'?t know|dunno|idk|no preference|anything|"
    r"whatever|surprise me|not really sure|haven'?t a clue)\b"
)
# "not sure how much to spend" is about the budget, not the interests.
_NOT_ABOUT_INTERESTS_RE = re.compile(r"\b(spend|budget|price|cost|how much|how old|age)\b")
# An opening "no idea what to get my dad" is about the gift; "no idea what he likes" is about
# the interests.
_ABOUT_INTERESTS_RE = re.compile(r"\b(likes?|into|enjoys?|loves?|hobb(?:y|ies)|interests?|passions?)\b")
_NO_BUDGET_RE = re.compile(
    r"\b(no budget|no limit|unlimited|money'?s no object|money is no object|price doesn'?t matter|"
    r"any price|whatever it costs|the sky'?s the limit)\b"
)
# Said when the bot asked for the budget: "doesn't matter", "anything".
_ANY_AMOUNT_RE = re.compile(r"\b(doesn'?t matter|does not matter|don'?t mind|no preference|anything|whatever|any)\b")
_ADULT_RE = re.compile(r"\b(adults?|grown[- ]?ups?|grownups?)\b")
_MORE_RE = re.compile(r"\b(more|other|others|another|else|different|new)\b")
_STOP_RE = re.compile(
    r"\b(forget it|never ?mind|nvm|stop|cancel|quit|leave it|not now|no thanks|i'?m good|skip it)\b"
)
_FREE_INTEREST_CUE_RE = re.compile(
    r"\b(?:loves?|likes?|into|enjoys?|fan of|obsessed with|passionate about|crazy about|big on|adores?)\b"
)
_FREE_INTEREST_FILLER_RE = re.compile(
    r"\b(?:he|she|they|is|are|'s|really|mostly|mainly|just|the|a|an|his|her|their|some|lots of|"
    r"that sort of thing|stuff like that|things|and stuff|i think|probably|maybe|too|also)\b"
)
# A phrase with any of these is talk, not a hobby: "nope", "let me think", "why do you ask".
_NOT_AN_INTEREST = frozenset(
    "no nope nah not none nothing yes yeah yep ok okay sure hmm um uh well let me think i you know "
    "idk dunno maybe sorry what why how it that this them there ask asking wait".split()
)
MAX_FREE_INTERESTS = 3
_LIKE_CUES = r"love|loves|loved|like|likes|into|enjoy|enjoys|fan|obsessed|passionate|crazy about|interested|big on|adores?"
_DISLIKE_CUES = r"not|n't|no|hate|hates|dislike|dislikes|can'?t stand|allergic"
_CUE_RE = re.compile(rf"\b(?:(?P<neg>{_DISLIKE_CUES})|(?P<pos>{_LIKE_CUES}))\b|n't\b")
_CLAUSE_BREAK_RE = re.compile(r"[,.;!?]|\bbut\b|\band\s+(?=she|he|they)")

_UNITS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
    "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
    "nineteen": 19,
}
_TENS = {
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
    "eighty": 80, "ninety": 90,
}
_NUMBER_WORD = "|".join([*_UNITS, *_TENS, "hundred", "a hundred"])
_NUMBER_WORDS_RE = re.compile(rf"\b(?:{_NUMBER_WORD})(?:[\s-]+(?:and[\s-]+)?(?:{_NUMBER_WORD}))*\b")

_N = r"(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d{1,2}))?"
_CURRENCY_AFTER = r"(?:\s*(?:\$|dollars?|bucks|usd|quid|pounds?|euros?|€|£))"
_CURRENCY_BEFORE = r"(?:[$€£]|usd)\s*"
_MONEY = rf"(?:{_CURRENCY_BEFORE}{_N}|{_N}{_CURRENCY_AFTER})"
_AMOUNT = rf"(?:{_CURRENCY_BEFORE})?{_N}(?:{_CURRENCY_AFTER})?"
_BUDGET_CUES = (
    r"under|below|less than|up to|no more than|not more than|max(?:imum)?|at most|within|"
    r"budget(?:\s+(?:of|is|around|about))?|spend(?:ing)?(?:\s+(?:about|around))?|around|about|"
    r"roughly|approximately|approx\.?|~|cheaper than"
)
_RANGE_RES = (
    re.compile(rf"\bbetween\s+{_AMOUNT}\s*(?:and|to|-|–)\s*{_AMOUNT}"),
    re.compile(rf"{_MONEY}\s*(?:-|–|to)\s*{_AMOUNT}"),
    re.compile(rf"\b{_N}\s*(?:-|–|to)\s*{_MONEY}"),
    re.compile(rf"\b(?:budget|spend)\D{{0,12}}?{_AMOUNT}\s*(?:-|–|to)\s*{_AMOUNT}"),
)
_CUED_RE = re.compile(rf"(?:\b|~)(?:{_BUDGET_CUES}):?\s*{_AMOUNT}(?!\s*-?\s*(?:years?|yrs?|yo|months?)\b)")
_ISH_RE = re.compile(rf"(?:{_CURRENCY_BEFORE})?{_N}\s*-?ish\b")
_MONEY_RE = re.compile(_MONEY)

_AGE_RANGE_RE = re.compile(r"\b(\d{1,2})\s*(?:-|–|to)\s*(\d{1,2})\s*-?\s*(?:years?|yrs?)\s*-?\s*olds?\b")
_AGE_RES = (
    re.compile(r"\b(\d{1,3})\s*-?\s*(?:years?|yrs?|yr)\s*-?\s*olds?\b"),
    re.compile(r"\b(\d{1,3})\s*(?:yo|y/o|y\.o\.)(?=\W|$)"),
    re.compile(r"\b(?:age|aged|ages)\s*:?\s*(\d{1,3})\b"),
    re.compile(r"\bturning\s+(\d{1,3})\b"),
    re.compile(
        r"\b(?:she|he|they|who|kid|child|son|daughter|niece|nephew|grandson|granddaughter|"
        r"brother|sister|cousin|boy|girl)\s*(?:is|'s|’s|are|'re|will be)\s+(\d{1,2})\b"
        rf"(?!{_CURRENCY_AFTER}|\s*%|\s*(?:months?|weeks?)\b)"
    ),
)
_MONTHS_OLD_RE = re.compile(r"\b(\d{1,2})\s*-?\s*months?\s*-?\s*old\b")
_DECADE_RE = re.compile(r"\bin (?:his|her|their) (?:early |mid |mid-|late )?(\d)0'?s\b")
# "toys for kids under 5": an age limit, not a budget.
_UNDER_AGE_RE = re.compile(
    r"\b(?:kids?|children|child|toddlers?|babies|boys?|girls?|ages?)\s+(?:under|below)\s+(\d{1,2})\b"
    rf"(?!{_CURRENCY_AFTER})"
)
_AGE_WORDS = (
    (re.compile(r"\b(?:newborn|infant)s?\b"), 0),
    (re.compile(r"\bbab(?:y|ies)\b(?!\s+(?:sister|brother|cousin|shower))"), 0),
    (re.compile(r"\btoddlers?\b"), 2),
    (re.compile(r"\bpre-?schoolers?\b"), 4),
    (re.compile(r"\btweens?\b"), 11),
    (re.compile(r"\b(?:teen|teens|teenage|teenager|teenagers|adolescent)\b"), 15),
)


@dataclass
class GiftRequest:
    relationship: str | None = None
    age: int | None = None
    age_is_estimate: bool = False  # from a word ("teenage" -> 15), not a number
    interests: list[str] = field(default_factory=list)
    interests_unknown: bool = False  # the shopper said "no idea": don't ask again
    dislikes: list[str] = field(default_factory=list)
    budget: Decimal | None = None
    budget_unknown: bool = False  # "no limit", or "no idea" when asked: don't ask again
    pronoun: str = "they"  # she | he | they, from the relationship
    adult: bool = False  # an adult relationship ("wife"), age unknown

    @property
    def effective_age(self) -> int | None:
        """The age to filter products by: the one given, or a grown-up's if only that is known."""
        if self.age is not None:
            return self.age
        return ASSUMED_ADULT_AGE if self.adult else None

    @property
    def missing(self) -> list[str]:
        """What is still worth asking, in the order a shop assistant would ask."""
        wanted = []
        if self.age is None and not self.adult:
            wanted.append("age")
        if not self.interests and not self.interests_unknown:
            wanted.append("interests")
        if self.budget is None and not self.budget_unknown:
            wanted.append("budget")
        return wanted

    def merged(self, newer: "GiftRequest") -> "GiftRequest":
        """This request updated by a later message: what the later one says wins."""
        update = {}
        if newer.relationship:
            update.update(relationship=newer.relationship, pronoun=newer.pronoun, adult=newer.adult)
        else:
            if newer.adult:
                update.update(adult=True)
            if newer.pronoun != "they" and self.pronoun == "they":
                update.update(pronoun=newer.pronoun)
        if newer.age is not None:
            update.update(age=newer.age, age_is_estimate=newer.age_is_estimate)
        if newer.interests:
            update.update(interests=list(newer.interests), interests_unknown=False)
        elif newer.interests_unknown and not self.interests:
            update.update(interests_unknown=True)
        if newer.dislikes:
            update.update(dislikes=sorted({*self.dislikes, *newer.dislikes}))
        if newer.budget is not None:
            update.update(budget=newer.budget, budget_unknown=False)
        elif newer.budget_unknown and self.budget is None:
            update.update(budget_unknown=True)
        return replace(self, **update)


def known_interests(session: Session) -> set[str]:
    """Every interest tag in the catalog (the parser's vocabulary)."""
    return set(session.execute(select(ProductTag.tag).distinct()).scalars())


def parse_gift_request(
    text: str,
    vocabulary: Iterable[str] = (),
    hints: Iterable[Mapping | tuple] | None = None,
    expecting: str | None = None,
) -> GiftRequest:
    """Relationship, age, interests and budget from one message.

    vocabulary: the catalog's interest tags (known_interests); synonyms map onto them.
    hints: pre-extracted entities, Rasa-style dicts {"entity": "MONEY", "value": "$40"} or
    (label, text) pairs; used only where the rules found nothing.
    expecting: "age" | "budget" | "interests" | "relationship" when the message answers that
    question, so a bare number or "no idea" counts.
    """
    clean = _normalise(text)
    hint_list = [_hint(h) for h in hints or ()]
    relationship, pronoun, adult = _relationship(clean)
    age, age_is_estimate, age_spans = _age_answer(clean, hint_list, expecting)
    without_ages = _blank(clean, age_spans)  # "a 10 year old" is no budget of 10
    budget = _budget_answer(without_ages, hint_list, expecting)
    no_idea = bool(_NO_IDEA_RE.search(clean))
    interests, dislikes, interests_unknown = _interests_answer(clean, vocabulary, expecting, no_idea)
    return GiftRequest(
        relationship=relationship, pronoun=pronoun, adult=adult or (age is None and bool(_ADULT_RE.search(clean))),
        age=age, age_is_estimate=age_is_estimate,
        interests=interests, interests_unknown=interests_unknown, dislikes=dislikes,
        budget=budget, budget_unknown=budget is None and _budget_unknown(without_ages, expecting, no_idea),
    )


def wants_to_stop(text: str) -> bool:
    """"Forget it", "never mind": the shopper is done with the gift finder, not answering it."""
    return bool(_STOP_RE.search(_normalise(text)))


def asks_for_more_ideas(text: str) -> bool:
    """"Any other ideas?", "show me more": a follow-up to the last ideas, not a new search."""
    return bool(_MORE_RE.search(_normalise(text)))


# --- helpers -----------------------------------------------------------------------------------


def _normalise(text: str) -> str:
    clean = (text or "")[:MAX_INPUT_CHARS].lower().replace("’", "'")
    return _NUMBER_WORDS_RE.sub(lambda m: str(_words_to_number(m.group(0))), clean)


def _relationship(text: str) -> tuple[str | None, str, bool]:
    """(relationship, pronoun, adult?) of the person the gift is for; the pronoun comes from
    the text when the relationship does not give one ("friend", or none named)."""
    match = next(
        # "my friend's son" is for the son
        (m for m in _RELATIONSHIP_RE.finditer(text) if not text.startswith("'s", m.end())),
        None,
    )
    name, pronoun, adult = _RELATIONSHIPS[match.group(1)] if match else (None, "they", False)
    if pronoun == "they":
        pronoun = _pronoun(text)
    return name, pronoun, adult


def _age_answer(
    text: str, hints: list[tuple[str, str]], expecting: str | None
) -> tuple[int | None, bool, list[tuple[int, int]]]:
    """(age, is_estimate, spans of age phrases): from the rules, else the hints, else a bare
    number answering "how old are they?"; an age past 120 is no age."""
    age, estimate, spans = _age(text)
    if age is None:
        age = _age_from_hints(hints, expecting)
    if age is None and expecting == "age":
        bare = re.fullmatch(r"\D*?(\d{1,3})\D*", text)
        age = int(bare.group(1)) if bare else None
    if age is None or not 0 <= age <= 120:
        return None, False, spans
    return age, estimate, spans


def _budget_answer(text: str, hints: list[tuple[str, str]], expecting: str | None) -> Decimal | None:
    """The budget from the rules, else the hints, else a bare amount answering "how much?"."""
    budget = _budget(text)
    if budget is None:
        budget = _budget_from_hints(hints, expecting)
    if budget is None and expecting == "budget":
        bare = re.fullmatch(rf"\D*?{_N}\D*", text)
        budget = _decimal(bare.group(1), bare.group(2)) if bare else None
    return budget


def _budget_unknown(text: str, expecting: str | None, no_idea: bool) -> bool:
    """"No limit", or "no idea" / "anything" as the answer to "how much?": don't ask again."""
    return bool(_NO_BUDGET_RE.search(text)) or (
        expecting == "budget" and bool(no_idea or _ANY_AMOUNT_RE.search(text))
    )


def _interests_answer(
    text: str, vocabulary: Iterable[str], expecting: str | None, no_idea: bool
) -> tuple[list[str], list[str], bool]:
    """(liked, disliked, unknown): catalog interests, or any hobby when the message answers
    "what are they into?"; unknown when "no idea" is about the interests, not the gift."""
    likes, dislikes = _interests(text, vocabulary)
    if not likes and not no_idea and expecting == "interests":
        likes = _free_interests(text, dislikes)
    unknown = False
    if not likes and no_idea:
        about_other = _NOT_ABOUT_INTERESTS_RE.search(text)
        unknown = expecting == "interests" or (
            expecting is None and not about_other and bool(_ABOUT_INTERESTS_RE.search(text))
        )
    return likes, dislikes, unknown


def _pronoun(text: str) -> str:
    she = re.search(r"\b(she|her|hers)\b", text)
    he = re.search(r"\b(he|him|his)\b", text)
    if she and not he:
        return "she"
    if he and not she:
        return "he"
    return "they"


def _words_to_number(words: str) -> int:
    total, current = 0, 0
    for word in re.split(r"[\s-]+", words):
        if word in _UNITS:
            current += _UNITS[word]
        elif word in _TENS:
            current += _TENS[word]
        elif word == "hundred":
            current = (current or 1) * 100
    return total + current


def _blank(text: str, spans: list[tuple[int, int]]) -> str:
    for start, end in spans:
        text = text[:start] + " " * (end - start) + text[end:]
    return text


def _age(text: str) -> tuple[int | None, bool, list[tuple[int, int]]]:
    """(age, is_estimate, spans that held it) from the first age phrase."""
    spans = []
    found: tuple[int, int, bool] | None = None  # (position, age, estimate)

    def offer(position: int, age: int, estimate: bool, span: tuple[int, int]) -> None:
        nonlocal found
        spans.append(span)
        if found is None or position < found[0]:
            found = (position, age, estimate)

    for match in _AGE_RANGE_RE.finditer(text):
        offer(match.start(), min(int(match.group(1)), int(match.group(2))), False, match.span())
    for pattern in _AGE_RES:
        for match in pattern.finditer(text):
            if not any(s <= match.start(1) < e for s, e in spans):
                offer(match.start(), int(match.group(1)), False, match.span())
    for match in _UNDER_AGE_RE.finditer(text):
        offer(match.start(), max(int(match.group(1)) - 1, 0), False, match.span())
    for match in _MONTHS_OLD_RE.finditer(text):
        offer(match.start(), int(match.group(1)) // 12, False, match.span())
    for match in _DECADE_RE.finditer(text):
        offer(match.start(), int(match.group(1)) * 10 + 5, True, match.span())
    if found is None:
        for pattern, age in _AGE_WORDS:
            match = pattern.search(text)
            if match:
                offer(match.start(), age, True, match.span())
    if found is None:
        return None, False, spans
    return found[1], found[2], spans


def _decimal(whole: str, cents: str | None) -> Decimal | None:
    try:
        value = Decimal(whole.replace(",", "") + (f".{cents}" if cents else ""))
    except InvalidOperation:
        return None
    # Beyond any real budget (and past Decimal's precision once quantized): no budget.
    return value.quantize(Decimal("0.01")) if 0 < value < Decimal("1e12") else None


def _amounts(match: re.Match) -> list[Decimal]:
    """Every amount a budget pattern captured (groups come in whole/cents pairs)."""
    groups = match.groups()
    amounts = []
    for whole, cents in zip(groups[::2], groups[1::2]):
        if whole:
            value = _decimal(whole, cents)
            if value is not None:
                amounts.append(value)
    return amounts


def _budget(text: str) -> Decimal | None:
    """The most the shopper wants to spend: a range's top, a cued amount, or a plain price."""
    for pattern in _RANGE_RES:
        match = pattern.search(text)
        if match:
            return max(_amounts(match), default=None)
    for pattern in (_CUED_RE, _ISH_RE, _MONEY_RE):
        amounts = [a for m in pattern.finditer(text) for a in _amounts(m)]
        if amounts:
            return max(amounts)
    return None


def _hint(hint: Mapping | tuple) -> tuple[str, str]:
    if isinstance(hint, Mapping):
        return str(hint.get("entity", "")).upper(), str(hint.get("value", ""))
    label, value = hint
    return str(label).upper(), str(value)


def _age_from_hints(hints: list[tuple[str, str]], expecting: str | None) -> int | None:
    for label, value in hints:
        if label in ("DATE", "CARDINAL"):
            age, _, _ = _age(_normalise(value))
            if age is not None:
                return age
            if label == "CARDINAL" and expecting == "age":
                digits = re.search(r"\d{1,3}", _normalise(value))
                if digits:
                    return int(digits.group(0))
    return None


def _budget_from_hints(hints: list[tuple[str, str]], expecting: str | None) -> Decimal | None:
    labels = ("MONEY", "CARDINAL") if expecting == "budget" else ("MONEY",)
    amounts = []
    for label, value in hints:
        if label in labels:
            for match in re.finditer(_N, _normalise(value)):
                amount = _decimal(match.group(1), match.group(2))
                if amount is not None:
                    amounts.append(amount)
    return max(amounts, default=None)


def _interest_terms(vocabulary: Iterable[str]) -> dict[str, str]:
    terms = {tag.lower(): tag.lower() for tag in vocabulary}
    for word, tag in INTEREST_SYNONYMS.items():
        terms.setdefault(word, tag)
    for tag in set(INTEREST_SYNONYMS.values()):
        terms.setdefault(tag, tag)
    return terms


def _interests(text: str, vocabulary: Iterable[str]) -> tuple[list[str], list[str]]:
    """(liked, disliked) tags in order of mention; "hates football" is a dislike."""
    terms = _interest_terms(vocabulary)
    pattern = re.compile(
        r"\b(" + "|".join(re.escape(t) for t in sorted(terms, key=len, reverse=True)) + r")(?:s|es)?\b"
    )
    likes: list[str] = []
    dislikes: list[str] = []
    for match in pattern.finditer(text):
        tag = terms[match.group(1)]
        target = dislikes if _is_negated(text, match.start()) else likes
        if tag not in likes and tag not in dislikes:
            target.append(tag)
    return likes, dislikes


def _free_interests(text: str, dislikes: list[str]) -> list[str]:
    """Interests the catalog has no word for ("he's into golf" -> golf), from an answer to
    "what are they into?": what follows the last like-cue, or the whole short answer."""
    cues = list(_FREE_INTEREST_CUE_RE.finditer(text))
    if cues:
        if _is_negated(text, cues[-1].end()):
            return []
        text = text[cues[-1].end():]
    phrases = []
    for part in re.split(r",|;|/|&|\band\b|\bor\b|\.", text):
        words = _FREE_INTEREST_FILLER_RE.sub(" ", part)
        words = " ".join(re.findall(r"[a-z][a-z'-]*", words))
        tokens = words.split()
        if (
            tokens
            and len(tokens) <= 3
            and not _NOT_AN_INTEREST.intersection(tokens)
            and words not in dislikes
            and words not in phrases
        ):
            phrases.append(words)
    return phrases[:MAX_FREE_INTERESTS]


def _is_negated(text: str, position: int) -> bool:
    """Whether the nearest like/dislike cue before position, in the same clause, is negative."""
    before = text[:position]
    breaks = list(_CLAUSE_BREAK_RE.finditer(before))
    clause = before[breaks[-1].end():] if breaks else before
    cues = list(_CUE_RE.finditer(clause))
    if not cues:
        return False
    last = cues[-1]
    if last.group("pos") is None:
        return True
    # "doesn't like", "isn't into", "not a fan of"
    return bool(re.search(r"(?:n't|\bnot|\bnever)(?:\s+\w+)?\s*$", clause[: last.start()]))
