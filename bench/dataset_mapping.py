"""Public customer-support sets (Bitext, CLINC150) read in place and mapped to Tinsel's intents.

The sets live outside the repository (../shared/datasets, or $TINSEL_DATASETS) and are never
copied into it. Each set is split once, by a fixed seed, into a `study` part the team may read
to learn what real shoppers write, and an `eval` part that is only ever looked at as figures.
The split is a pure function of the file contents and the seed.
"""
from __future__ import annotations

import csv
import hashlib
import json
import os
import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SEED = 20261124
SPLITS = ("study", "eval")

BITEXT_FILE = Path("bitext-customer-support") / "Bitext_Sample_Customer_Support_Training_Dataset.csv"
CLINC_FILE = Path("clinc150") / "data_train_val.json"
CLINC_DOMAINS_FILE = Path("clinc150") / "domains.json"

# Intents that make the bot act on an order or the shopper's account with this store. An
# unrelated message (banking, travel, ...) classified as one of these is the costly mistake:
# the bot would ask for an order number or start a refund for something we never sold. A sale
# reminder counts too: it stores something for the shopper ("remind me to call mom" must not).
STORE_ACTION_INTENTS = frozenset({
    "track_order", "cancel_order", "return_item", "exchange_item", "request_refund",
    "refund_status", "report_problem", "loyalty_status", "gift_advice", "ask_sale_reminder",
    # Issue #18: each changes something of the shopper's (updates, a gesture, a rating) or reads
    # their orders (the recap).
    "stop_updates", "resume_updates", "choose_goodwill", "rate_conversation", "holiday_recap",
})

# --- Bitext label -> Tinsel intent -----------------------------------------------------------
# Decided by reading the study split. The routing follows data/nlu/out_of_scope.yml: store
# account self-service is out_of_scope (the answer points to the account pages), anything that
# needs a person to change an existing order or money is human_handoff.
BITEXT_TO_TINSEL: dict[str, str] = {
    # ORDER. Tracking and cancelling are the bot's own jobs.
    "track_order": "track_order",
    "cancel_order": "cancel_order",
    # Changing what is in an order ("add an item", "swap the product in purchase #123") needs a
    # person who can edit it before it ships; Tinsel has no self-service order editing.
    "change_order": "human_handoff",
    # "I want to buy / place an order for X": shopping happens on the website, the assistant
    # does not take orders, so the out-of-scope answer points to the shop.
    "place_order": "out_of_scope",
    # REFUND.
    "get_refund": "request_refund",
    "track_refund": "refund_status",
    "check_refund_policy": "faq/return_policy",
    # CONTACT: asking for a person or for how to reach the support team. About half of
    # contact_customer_service asks WHEN the team can be reached ("what hours can I call
    # customer service?"): that is answered by faq/holiday_hours (data/nlu/faq.yml: "when is
    # customer service available", "what hours is your helpline open"), not by handing the
    # shopper to an agent, so bitext_intent() below decides per message.
    "contact_human_agent": "human_handoff",
    "contact_customer_service": "human_handoff",
    # PAYMENT. Which methods we take is an FAQ. Bitext's payment_issue is a payment failing at
    # checkout ("my card was declined", "I can't pay, report a payment error"), before there is
    # an order: only a person who can see the payment provider helps. (A doubled or wrong charge
    # on an existing order goes to a person too: data/nlu/handoff.yml and returns.yml's header.)
    "check_payment_methods": "faq/payment_methods",
    "payment_issue": "human_handoff",
    # DELIVERY: each label covers two jobs, so delivery_intent() below decides per message;
    # the values here only name the FAQ side.
    #   delivery_period: most study messages ask when THEIR order/parcel/item will arrive
    #     ("help me see when my package is gonna arrive") = track_order, as in
    #     data/nlu/faq.yml ("will MY order arrive" is track_order); the rest ask how long
    #     shipping takes in general ("shipping periods", "how long the delivery takes") =
    #     faq/shipping_deadline.
    #   delivery_options: "do you ship to Liverpool?" / "can I order from Canada?" =
    #     faq/international_shipping; "what shipping methods do you offer?" =
    #     faq/shipping_deadline (that answer lists the methods and their dates).
    "delivery_period": "faq/shipping_deadline",
    "delivery_options": "faq/shipping_deadline",
    # FEEDBACK. Bitext complaints are formal complaints against the company ("lodge a consumer
    # claim against your business", "I am very unhappy with your work, help me file a claim")
    # with no order, delivery or item named, so a real store hands them to a person;
    # report_problem is for a concrete order going wrong (damaged, missing, late, wrong item).
    "complaint": "human_handoff",
    # Leaving a review or feedback is done on the product page / review email.
    "review": "out_of_scope",
    # SHIPPING_ADDRESS. change_shipping_address is mostly "I entered a wrong delivery address,
    # I want to correct it": in the holiday rush that is an order about to ship to the wrong
    # place, which only a person can redirect (the account page cannot change a placed order).
    # set_up_shipping_address ("set up a secondary delivery address", "trouble entering a new
    # shipping address") is the account's address book / checkout form: self-service.
    "change_shipping_address": "human_handoff",
    "set_up_shipping_address": "out_of_scope",
    # CANCELLATION_FEE: "early termination / early exit fees" of a contract or plan; a gift
    # shop has no such thing, so not cancel_order.
    "check_cancellation_fee": "out_of_scope",
    # ACCOUNT self-service: the account pages and the emailed links handle these.
    "create_account": "out_of_scope",
    "delete_account": "out_of_scope",
    "edit_account": "out_of_scope",
    "recover_password": "out_of_scope",
    "registration_problems": "out_of_scope",
    "switch_account": "out_of_scope",
    # INVOICE: downloaded from the account's order history.
    "check_invoice": "out_of_scope",
    "get_invoice": "out_of_scope",
    # NEWSLETTER: the link in every email / the account's preferences.
    "newsletter_subscription": "out_of_scope",
}

_GENERAL_DELIVERY_TIME = re.compile(
    r"\bperiods?\b|how long (?:does )?(?:the )?(?:delivery|shipping|shipment) (?:usually )?takes?"
    r"|how long does it usually take for a\b",
    re.IGNORECASE,
)
_OWN_SHIPMENT = re.compile(
    r"\b(?:my|myh|these|this|the|thhe)\s+(?:\w+\s+)?"
    r"(?:order|purchase|package|parcel|shipment|item|article|product|producr|delivery)\b",
    re.IGNORECASE,
)
_PLACE = re.compile(r"\b(?:to|from|frolm)\s+[A-Z]")


_SUPPORT_HOURS = re.compile(r"\bhours?\b|\bwhat time\b|\bavailable\b", re.IGNORECASE)


def delivery_intent(label: str, text: str) -> str:
    """Tinsel intent of one Bitext DELIVERY message (see the DELIVERY comment above)."""
    if label == "delivery_period":
        if _GENERAL_DELIVERY_TIME.search(text) or not _OWN_SHIPMENT.search(text):
            return "faq/shipping_deadline"
        return "track_order"
    if label == "delivery_options":
        return "faq/international_shipping" if _PLACE.search(text) else "faq/shipping_deadline"
    return BITEXT_TO_TINSEL[label]


def bitext_intent(label: str, text: str) -> str:
    """Tinsel intent of one Bitext message: by label, or per message for DELIVERY and CONTACT."""
    if label.startswith("delivery_"):
        return delivery_intent(label, text)
    if label == "contact_customer_service" and _SUPPORT_HOURS.search(text):
        return "faq/holiday_hours"
    return BITEXT_TO_TINSEL[label]


# --- CLINC150 label -> Tinsel intent ---------------------------------------------------------
# CLINC150 is a general virtual assistant's data (banking, travel, smart home, ...). Every
# label not listed here, and the `oos` messages, map to out_of_scope.
CLINC_TO_TINSEL: dict[str, str] = {
    # small_talk that frames a conversation.
    "greeting": "greet",
    "goodbye": "goodbye",
    "thank_you": "thank_you",
    "are_you_a_bot": "bot_challenge",
    # meta: answers to the bot's yes/no questions.
    "yes": "affirm",
    "no": "deny",
    # home: "where is my order / has my package shipped" is track_order for any shop's order
    # (data/nlu/out_of_scope.yml). Placing orders (`order`) and shopping lists are not ours.
    "order_status": "track_order",
}
# Left as out_of_scope on purpose (they look close to a store job but are not Tinsel's):
#   rewards_balance, redeem_rewards: credit-card points and airline miles, not our loyalty
#     programme (data/nlu/loyalty.yml).
#   order ("order more cat food", "buy underpants for me"): shopping by voice; shopping_list.
#   cancel ("nevermind, cancel that", "stop talking"), maybe ("no idea"), repeat: voice-
#     assistant commands with no Tinsel intent; "cancel that" must never become cancel_order.
#   what_can_i_ask_you: the out-of-scope answer is the one that lists what Tinsel can do.
#   who_made_you, what_is_your_name, how_old_are_you, ...: personal small talk the bot
#     deflects (data/nlu/out_of_scope.yml).

CLINC_OOS_LABEL = "oos"


@dataclass(frozen=True)
class Example:
    source: str          # "bitext" | "clinc150" | "heldout"
    text: str
    label: str           # the set's own label
    intent: str          # Tinsel intent; FAQ answers as "faq/<key>"
    domain: str = ""     # CLINC150 domain or Bitext category
    entity_type: str = ""
    entity_value: str = ""

    @property
    def out_of_domain(self) -> bool:
        """A CLINC150 message that is none of the store's business."""
        return self.source == "clinc150" and self.intent == "out_of_scope"


def datasets_dir() -> Path:
    override = os.environ.get("TINSEL_DATASETS")
    return Path(override) if override else PROJECT_ROOT.parent / "shared" / "datasets"


def missing_files(root: Path | None = None) -> list[Path]:
    root = root or datasets_dir()
    return [root / f for f in (BITEXT_FILE, CLINC_FILE, CLINC_DOMAINS_FILE) if not (root / f).is_file()]


def _normalized(text: str) -> str:
    return " ".join(text.lower().split())


def _rank_key(seed: int, label: str, text: str) -> str:
    return hashlib.sha256(f"{seed}\x1f{label}\x1f{_normalized(text)}".encode()).hexdigest()


def split(examples: Iterable[Example], part: str, seed: int = SEED) -> list[Example]:
    """Half of each label's distinct texts, chosen by a seeded hash; identical texts stay together.

    Hashing (not random.shuffle) keeps the split independent of Python's RNG and of row order.
    """
    if part not in SPLITS:
        raise ValueError(f"part must be one of {SPLITS}, not {part!r}")
    by_label: dict[str, dict[str, list[Example]]] = defaultdict(lambda: defaultdict(list))
    for ex in examples:
        by_label[ex.label][_normalized(ex.text)].append(ex)
    chosen: list[Example] = []
    for label in sorted(by_label):
        texts = sorted(by_label[label], key=lambda t: _rank_key(seed, label, t))
        half = (len(texts) + 1) // 2
        picked = texts[:half] if part == "study" else texts[half:]
        for t in sorted(picked, key=lambda t: _rank_key(seed, label, t)):
            chosen.extend(by_label[label][t])
    return chosen


def sample(examples: list[Example], n: int, seed: int = SEED) -> list[Example]:
    """Exactly n examples, proportional per label (largest remainder), each label at least once
    when n allows it; chosen by a seeded hash, so the same input always gives the same sample."""
    if n >= len(examples):
        return list(examples)
    by_label: dict[str, list[Example]] = defaultdict(list)
    for ex in examples:
        by_label[ex.label].append(ex)
    labels = sorted(by_label, key=lambda label: _rank_key(seed, label, ""))
    exact = {label: n * len(by_label[label]) / len(examples) for label in labels}
    floor = 1 if n >= len(labels) else 0
    quotas = {label: max(floor, int(exact[label])) for label in labels}
    by_remainder = sorted(labels, key=lambda label: -(exact[label] - int(exact[label])))
    while sum(quotas.values()) < n:
        for label in by_remainder:
            if sum(quotas.values()) < n and quotas[label] < len(by_label[label]):
                quotas[label] += 1
    while sum(quotas.values()) > n:
        largest = max(labels, key=lambda label: quotas[label])
        quotas[largest] -= 1
    picked: list[Example] = []
    for label in sorted(labels):
        ranked = sorted(by_label[label], key=lambda e: (_rank_key(seed + 1, label, e.text), e.text))
        picked.extend(ranked[: quotas[label]])
    return picked


def load_bitext(root: Path | None = None) -> list[Example]:
    path = (root or datasets_dir()) / BITEXT_FILE
    with path.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    unmapped = sorted({r["intent"] for r in rows} - BITEXT_TO_TINSEL.keys())
    if unmapped:
        raise ValueError(f"Bitext labels without a Tinsel mapping: {unmapped}")
    return [
        Example(
            source="bitext", text=r["instruction"], label=r["intent"],
            intent=bitext_intent(r["intent"], r["instruction"]), domain=r["category"],
            entity_type=r["entity_type"], entity_value=r["entity_value"],
        )
        for r in rows
    ]


def load_clinc(root: Path | None = None) -> list[Example]:
    root = root or datasets_dir()
    data = json.loads((root / CLINC_FILE).read_text(encoding="utf-8"))
    domains = json.loads((root / CLINC_DOMAINS_FILE).read_text(encoding="utf-8"))
    domain_of = {label: domain for domain, labels in domains.items() for label in labels}
    domain_of[CLINC_OOS_LABEL] = CLINC_OOS_LABEL
    unknown = sorted(CLINC_TO_TINSEL.keys() - domain_of.keys())
    if unknown:
        raise ValueError(f"CLINC150 mapping names labels not in domains.json: {unknown}")
    examples = []
    for part in ("train", "val", "oos_train", "oos_val"):
        for text, label in data[part]:
            examples.append(Example(
                source="clinc150", text=text, label=label,
                intent=CLINC_TO_TINSEL.get(label, "out_of_scope"), domain=domain_of[label],
            ))
    return examples
