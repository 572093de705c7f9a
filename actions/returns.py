"""Returns, exchanges and problem reports: the forms that ask, and the actions that let bot/
decide.

The forms only collect words (which item, why, which size); bot/returns/ matches them against
the verified order, decides eligibility and the remedy, and bot.money.refunds computes every amount
from the database and climbs the refund ladder. A refund over the bot's limit comes back with
its handoff ticket already open, and the conversation pauses until an agent resolves it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Sequence

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import LooksUpOncePerCall, conversation_id, conversation_of, money, once_per_call, settings, store
from actions.engagement import personal_touch_after_return
from actions.orders import utter_not_verified
from actions.refunds import a_date, domain_text, tell_refund, tell_review
from bot.orders import lookup as orders
from bot.returns import exchange_request, problem_report, return_request
from bot.returns.eligibility import ItemEligibility, item_eligibility
from bot.returns.matching import select_items
from bot.returns.variants import Variant, VariantMatch, variant_choice

# Cleared once a return, exchange or problem has been answered, so the next one starts afresh.
FORM_SLOTS = ("return_item", "return_reason", "gift_receipt", "exchange_variant", "problem", "problem_remedy")
ITEM_QUESTIONS = {
    "return_form": "utter_which_item_return",
    "exchange_form": "utter_which_item_exchange",
    "problem_form": "utter_which_item_problem",
}


def cleared(*keep: str) -> list[dict]:
    return [SlotSet(name, None) for name in FORM_SLOTS if name not in keep]


def _number(tracker: Tracker) -> str | None:
    return tracker.get_slot("order_number")


# ------------------------------------------------------------------ the order's items


@dataclass(frozen=True)
class OrderItems:
    number: str
    is_gift: bool
    items: tuple[ItemEligibility, ...]
    chosen: tuple[ItemEligibility, ...] | None  # None: the words don't pick items yet


def order_items(tracker: Tracker, item_text: Any, *, for_problem: bool = False) -> OrderItems | None:
    """The verified order's items with bot/'s eligibility, and which of them `item_text` means;
    None if this conversation has not proved it owns the order."""
    key = ("order_items", conversation_id(tracker), _number(tracker), repr(item_text), for_problem)
    return once_per_call(key, lambda: _look_up_order_items(tracker, item_text, for_problem))


def _look_up_order_items(tracker: Tracker, item_text: Any, for_problem: bool) -> OrderItems | None:
    with store().session() as s:
        order = orders.verified_order(s, conversation_id(tracker), _number(tracker))
        if order is None:
            return None
        everything = item_eligibility(s, order, settings(), final_sale_counts=not for_problem)
        selection = select_items(order, item_text)
        chosen = None
        if selection.complete:
            ids = {i.id for i in selection.items}
            chosen = tuple(e for e in everything if e.order_item_id in ids)
        return OrderItems(order.number, bool(order.is_gift), tuple(everything), chosen)


def item_names(items: Sequence[ItemEligibility]) -> str:
    names = [f"{e.quantity} x {e.name}" if e.quantity > 1 else e.name for e in items]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _note(domain: dict, item: ItemEligibility) -> str:
    if item.reason == "window_closed":
        return domain_text(domain, "utter_item_note_window_closed", date=a_date(item.date))
    if item.reason in ("final_sale", "already_returned", "not_delivered"):
        return domain_text(domain, f"utter_item_note_{item.reason}")
    return ""


def item_list(domain: dict, items: Sequence[ItemEligibility]) -> str:
    return "\n".join(
        domain_text(
            domain,
            "utter_item_line",
            position=e.position,
            name=e.name,
            quantity_text=f" (x{e.quantity})" if e.quantity > 1 else "",
            amount=money(e.amount),
            note=_note(domain, e),
        )
        for e in items
    )


def tell_ineligible(dispatcher: CollectingDispatcher, items: Sequence[ItemEligibility]) -> None:
    """One line per refused item: why, and the date that matters."""
    for e in items:
        if e.reason == "not_delivered":
            if e.date:
                dispatcher.utter_message(response="utter_item_not_delivered_eta", name=e.name, date=a_date(e.date))
            else:
                dispatcher.utter_message(response="utter_item_not_delivered", name=e.name)
        elif e.reason in ("window_closed", "already_returned"):
            dispatcher.utter_message(response=f"utter_item_{e.reason}", name=e.name, date=a_date(e.date))
        else:
            dispatcher.utter_message(response="utter_item_final_sale", name=e.name)


def _form_of(tracker: Tracker) -> str:
    active = tracker.active_loop_name
    if active in ITEM_QUESTIONS:
        return active
    return {"exchange": "exchange_form", "problem": "problem_form"}.get(tracker.get_slot("order_purpose"), "return_form")


class ActionAskReturnItem(Action):
    """Lists the order's items by position (with what stops one from going back) as buttons."""

    def name(self) -> str:
        return "action_ask_return_item"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain) -> list[dict]:
        form = _form_of(tracker)
        facts = order_items(tracker, None, for_problem=form == "problem_form")
        if facts is None:
            return []
        buttons = [
            {"title": f"{e.position}. {e.name}", "payload": '/inform{"product": "%d"}' % e.position}
            for e in facts.items
        ]
        if form != "exchange_form" and len(facts.items) > 1:
            buttons.append({"title": domain_text(domain, "utter_button_all_items"), "payload": '/inform{"product": "all"}'})
        dispatcher.utter_message(response=ITEM_QUESTIONS[form], item_list=item_list(domain, facts.items), buttons=buttons)
        return []


class _ItemQuestion(LooksUpOncePerCall):
    """Shared by the three forms' validators: `return_item` must pick items of the verified order."""

    for_problem = False
    single_item = False

    def validate_return_item(self, value: Any, dispatcher, tracker: Tracker, domain) -> dict[str, Any]:
        facts = order_items(tracker, value, for_problem=self.for_problem)
        if facts is None:
            return {"return_item": None}
        if facts.chosen is None:
            dispatcher.utter_message(response="utter_item_unclear")
            return {"return_item": None}
        if self.single_item and len(facts.chosen) != 1:
            dispatcher.utter_message(response="utter_exchange_one_item")
            return {"return_item": None}
        return {"return_item": value}


def _entity(tracker: Tracker, *entities: str) -> str | None:
    for entity in entities:
        value = next(tracker.get_latest_entity_values(entity), None)
        if value:
            return str(value)
    return None


def _canonical(value: Any, allowed: Sequence[str]) -> str | None:
    text = re.sub(r"[\s-]+", "_", str(value or "").strip().lower())
    return text if text in allowed else None


# ------------------------------------------------------------------ returns


class ValidateReturnForm(_ItemQuestion, FormValidationAction):
    def name(self) -> str:
        return "validate_return_form"

    async def required_slots(self, domain_slots, dispatcher, tracker, domain) -> list[str]:
        facts = order_items(tracker, tracker.get_slot("return_item"))
        if facts is None:
            return []
        slots = ["return_item"] if len(facts.items) > 1 or facts.chosen is None else []
        if facts.chosen is not None and all(not e.eligible and e.reason != "already_returned" for e in facts.chosen):
            return slots  # nothing to ask about items that cannot go back: say why straight away
        slots.append("return_reason")
        if facts.is_gift:
            slots.append("gift_receipt")
        return slots

    def validate_return_reason(self, value: Any, dispatcher, tracker: Tracker, domain) -> dict[str, Any]:
        reason = _canonical(_entity(tracker, "return_reason"), return_request.RETURN_REASONS) or _canonical(
            value, return_request.RETURN_REASONS
        )
        if reason is None:
            dispatcher.utter_message(response="utter_return_reason_unclear")
        return {"return_reason": reason}

    def validate_gift_receipt(self, value: Any, dispatcher, tracker: Tracker, domain) -> dict[str, Any]:
        return {"gift_receipt": value if isinstance(value, bool) else None}


class ActionSubmitReturn(Action):
    def name(self) -> str:
        return "action_submit_return"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain) -> list[dict]:
        item_text, reason = tracker.get_slot("return_item"), tracker.get_slot("return_reason")
        if reason is None:
            # The form stopped early: every chosen item is refused for a reason a return cannot change.
            facts = order_items(tracker, item_text)
            if facts is None:
                return utter_not_verified(dispatcher, tracker) + cleared()
            dispatcher.utter_message(response="utter_return_ineligible")
            tell_ineligible(dispatcher, facts.chosen or ())
            return cleared()
        with store().session() as s:
            outcome = return_request.start_return(
                s, conversation_of(tracker), _number(tracker), item_text, reason,
                has_gift_receipt=bool(tracker.get_slot("gift_receipt")), settings=settings(),
            )
        events = tell_return(dispatcher, domain, outcome)
        waiting_for_review = outcome.refund is not None and outcome.refund.status == "pending_review"
        if outcome.status == "created" and not waiting_for_review:
            events += personal_touch_after_return(dispatcher, tracker)
        return events + cleared()


def tell_return(dispatcher: CollectingDispatcher, domain: dict, outcome: return_request.ReturnOutcome) -> list[dict]:
    if outcome.status == "not_verified":
        return utter_not_verified(dispatcher)
    if outcome.status == "ineligible":
        dispatcher.utter_message(response="utter_return_ineligible")
        tell_ineligible(dispatcher, outcome.ineligible)
        return []
    if outcome.status == "already_created":
        dispatcher.utter_message(response="utter_return_already_created", rma=outcome.rma, items=item_names(outcome.items))
        return tell_refund(dispatcher, domain, outcome.refund, outcome.credit_to)
    if outcome.status != "created":  # choose_items / unknown_reason: the form's validators prevent these
        dispatcher.utter_message(response="utter_item_unclear")
        return []
    dispatcher.utter_message(response="utter_return_created", rma=outcome.rma, items=item_names(outcome.items))
    if outcome.ineligible:
        dispatcher.utter_message(response="utter_return_not_included")
        tell_ineligible(dispatcher, outcome.ineligible)
    if outcome.refund is not None and outcome.refund.created and outcome.refund.status == "pending_review":
        return tell_review(dispatcher, domain, outcome.refund)
    events = tell_refund(dispatcher, domain, outcome.refund, outcome.credit_to)
    if outcome.next_step == "prepaid_label_by_email":
        dispatcher.utter_message(response="utter_return_label", label_email=outcome.label_email)
    return events


# ------------------------------------------------------------------ exchanges


def variant_text(variant: Variant) -> str:
    return ", ".join(x for x in (variant.size, variant.color) if x and x.lower() != "one size")


@dataclass(frozen=True)
class ExchangeChoice:
    outcome: exchange_request.ExchangeOutcome  # start_exchange without a size or colour: choose_variant or why not
    current: Variant | None = None  # what the shopper has
    match: VariantMatch | None = None  # what the shopper's words ask for instead


def exchange_choice(tracker: Tracker, wanted: Any = None) -> ExchangeChoice:
    """Where an exchange of the chosen item stands and what `wanted` picks, without creating anything."""
    item_text = tracker.get_slot("return_item")
    reason = _canonical(tracker.get_slot("return_reason"), return_request.RETURN_REASONS)
    key = ("exchange_choice", conversation_id(tracker), _number(tracker), repr(item_text), reason, repr(wanted))
    return once_per_call(key, lambda: _look_up_exchange_choice(tracker, item_text, reason, wanted))


def _look_up_exchange_choice(tracker: Tracker, item_text: Any, reason: str | None, wanted: Any) -> ExchangeChoice:
    with store().session() as s:
        outcome = exchange_request.start_exchange(
            s, conversation_of(tracker), _number(tracker), item_text,
            **({"reason": reason} if reason else {}), settings=settings(),
        )
        if outcome.status != "choose_variant":
            return ExchangeChoice(outcome)
        found = variant_choice(s, conversation_id(tracker), _number(tracker), item_text, wanted)
    return ExchangeChoice(outcome, found.current, found.match) if found else ExchangeChoice(outcome)


class ValidateExchangeForm(_ItemQuestion, FormValidationAction):
    single_item = True

    def name(self) -> str:
        return "validate_exchange_form"

    async def required_slots(self, domain_slots, dispatcher, tracker, domain) -> list[str]:
        facts = order_items(tracker, tracker.get_slot("return_item"))
        if facts is None:
            return []
        one = facts.chosen is not None and len(facts.chosen) == 1
        slots = ["return_item"] if len(facts.items) > 1 or not one else []
        if not one:
            return slots + ["exchange_variant"]
        if not facts.chosen[0].eligible:
            return slots  # the submit action says why (or that the exchange already exists)
        if not exchange_choice(tracker).outcome.alternatives:
            return slots  # nothing in stock to offer: the submit action offers a refund instead
        return slots + ["exchange_variant"]

    def validate_exchange_variant(self, value: Any, dispatcher, tracker: Tracker, domain) -> dict[str, Any]:
        choice = exchange_choice(tracker, value)
        if choice.current is None:
            return {"exchange_variant": None}
        match, item_name = choice.match, choice.current.name
        if match.status == "matched":
            return {"exchange_variant": value}
        if match.status == "unclear":
            dispatcher.utter_message(response="utter_exchange_variant_unclear")
        elif match.status == "same_as_current":
            dispatcher.utter_message(
                response="utter_exchange_same_variant", item_name=item_name, current_variant=variant_text(choice.current)
            )
        elif match.status == "sold_out":
            dispatcher.utter_message(response="utter_exchange_sold_out", item_name=item_name, variant=match.wanted)
        else:
            dispatcher.utter_message(response="utter_exchange_no_such_variant", item_name=item_name, wanted=match.wanted)
        return {"exchange_variant": None}


class ActionAskExchangeVariant(Action):
    """What is in stock instead, as buttons, with a way out to a refund."""

    def name(self) -> str:
        return "action_ask_exchange_variant"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain) -> list[dict]:
        choice = exchange_choice(tracker)
        if choice.current is None:
            return []
        options = choice.outcome.alternatives
        buttons = [
            {"title": variant_text(v), "payload": '/inform{"product": "%s"}' % v.sku} for v in options
        ] + [{"title": domain_text(domain, "utter_button_refund_instead"), "payload": "/return_item"}]
        dispatcher.utter_message(
            response="utter_ask_exchange_variant",
            item_name=choice.current.name,
            current_variant=variant_text(choice.current),
            options="; ".join(variant_text(v) for v in options),
            buttons=buttons,
        )
        return []


class ActionSubmitExchange(Action):
    def name(self) -> str:
        return "action_submit_exchange"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain) -> list[dict]:
        choice = exchange_choice(tracker, tracker.get_slot("exchange_variant"))
        outcome = choice.outcome
        if outcome.status == "not_verified":
            return utter_not_verified(dispatcher, tracker) + cleared()
        if outcome.status == "choose_variant" and not outcome.alternatives:
            dispatcher.utter_message(
                response="utter_exchange_no_alternatives", item_name=outcome.item.name, amount=money(outcome.item.amount)
            )
            return cleared("return_item")  # "Return it for a refund" keeps the item chosen
        wanted = ""
        if outcome.status == "choose_variant" and choice.match is not None:
            match = choice.match
            # The exact variant the matcher picked, so the exchange sends what the form accepted.
            size, color = (match.variant.size, match.variant.color) if match.variant else (match.size, match.color)
            wanted = match.wanted
            reason = _canonical(tracker.get_slot("return_reason"), return_request.RETURN_REASONS)
            with store().session() as s:
                outcome = exchange_request.start_exchange(
                    s, conversation_of(tracker), _number(tracker), tracker.get_slot("return_item"),
                    **({"reason": reason} if reason else {}), size=size, color=color, settings=settings(),
                )
        return self.tell(dispatcher, outcome, choice, wanted)

    @staticmethod
    def tell(
        dispatcher: CollectingDispatcher, outcome: exchange_request.ExchangeOutcome, choice: ExchangeChoice, wanted: str
    ) -> list[dict]:
        if outcome.status == "created":
            dispatcher.utter_message(
                response="utter_exchange_created",
                rma=outcome.rma,
                new_item=outcome.new_variant.name,
                new_variant=variant_text(outcome.new_variant),
                old_item=outcome.item.name,
                old_variant=variant_text(choice.current) if choice.current else "",
            )
            if outcome.next_step == "prepaid_label_by_email":
                dispatcher.utter_message(response="utter_exchange_label", label_email=outcome.label_email, old_item=outcome.item.name)
            return cleared()
        if outcome.status == "already_created":
            dispatcher.utter_message(
                response="utter_exchange_already_created",
                item_name=outcome.item.name,
                rma=outcome.rma,
                new_variant=variant_text(outcome.new_variant) if outcome.new_variant else "",
            )
            return cleared()
        if outcome.status == "ineligible":
            dispatcher.utter_message(response="utter_exchange_ineligible")
            tell_ineligible(dispatcher, [outcome.item])
            return cleared()
        if outcome.status in ("out_of_stock", "no_such_variant"):
            # Sold out since the shopper chose it: ask again with what is in stock now.
            if outcome.status == "out_of_stock":
                dispatcher.utter_message(
                    response="utter_exchange_sold_out", item_name=outcome.item.name, variant=variant_text(outcome.new_variant)
                )
            else:
                dispatcher.utter_message(response="utter_exchange_no_such_variant", item_name=outcome.item.name, wanted=wanted)
            if outcome.alternatives:
                return [SlotSet("exchange_variant", None), FollowupAction("exchange_form")]
            dispatcher.utter_message(
                response="utter_exchange_no_alternatives", item_name=outcome.item.name, amount=money(outcome.item.amount)
            )
            return cleared("return_item")
        dispatcher.utter_message(response="utter_item_unclear")
        return cleared()


# ------------------------------------------------------------------ problems


class ValidateProblemForm(_ItemQuestion, FormValidationAction):
    for_problem = True

    def name(self) -> str:
        return "validate_problem_form"

    async def required_slots(self, domain_slots, dispatcher, tracker, domain) -> list[str]:
        facts = order_items(tracker, tracker.get_slot("return_item"), for_problem=True)
        if facts is None:
            return []
        problem = tracker.get_slot("problem")
        if problem is None or problem == "late":
            return ["problem"]  # a late parcel is about the order, not an item
        slots = ["problem"]
        if len(facts.items) > 1 or facts.chosen is None:
            slots.append("return_item")
        if facts.chosen is not None and all(not e.eligible for e in facts.chosen):
            return slots
        return slots + ["problem_remedy"]

    def validate_problem(self, value: Any, dispatcher, tracker: Tracker, domain) -> dict[str, Any]:
        problem = _canonical(_entity(tracker, "problem", "return_reason"), problem_report.PROBLEMS) or _canonical(
            value, problem_report.PROBLEMS
        )
        if problem is None:
            dispatcher.utter_message(response="utter_problem_unclear")
        elif _photo_would_help(tracker, problem):
            dispatcher.utter_message(response="utter_ask_problem_photo")
        return {"problem": problem}

    def validate_problem_remedy(self, value: Any, dispatcher, tracker: Tracker, domain) -> dict[str, Any]:
        return {"problem_remedy": value if value in ("replacement", "refund") else None}


def _photo_would_help(tracker: Tracker, problem: str) -> bool:
    with store().reading() as s:
        return problem_report.photo_would_help(s, conversation_id(tracker), problem, settings())


class ActionSubmitProblem(Action):
    def name(self) -> str:
        return "action_submit_problem"

    def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain) -> list[dict]:
        problem = tracker.get_slot("problem")
        with store().session() as s:
            outcome = problem_report.report_problem(
                s, conversation_of(tracker), _number(tracker), problem,
                None if problem == "late" else tracker.get_slot("return_item"),
                prefer=tracker.get_slot("problem_remedy"), settings=settings(),
            )
        return tell_problem(dispatcher, domain, outcome) + cleared()


def tell_problem(dispatcher: CollectingDispatcher, domain: dict, outcome: problem_report.ProblemOutcome) -> list[dict]:
    status = outcome.status
    if status == "not_verified":
        return utter_not_verified(dispatcher)
    if status == "ineligible":
        dispatcher.utter_message(response="utter_problem_ineligible")
        tell_ineligible(dispatcher, outcome.ineligible)
        return [FollowupAction("utter_offer_human")]
    if outcome.remedy == "compensation" or status in ("not_late", "nothing_to_refund"):
        return _tell_late(dispatcher, domain, outcome)
    if status == "already_remedied":
        dispatcher.utter_message(response="utter_problem_already_reported", items=item_names(outcome.items), rma=outcome.rma)
        return tell_refund(dispatcher, domain, outcome.refund)
    if status != "remedied":  # choose_items / unknown_problem: the form's validators prevent these
        dispatcher.utter_message(response="utter_problem_unclear")
        return []
    items = item_names(outcome.items)
    if outcome.remedy == "replacement":
        dispatcher.utter_message(response="utter_problem_replacement", items=items, rma=outcome.rma)
        events: list[dict] = []
    else:
        dispatcher.utter_message(response="utter_problem_refund", items=items, rma=outcome.rma)
        if outcome.replacement_unavailable:
            dispatcher.utter_message(response="utter_problem_replacement_unavailable")
        if outcome.ineligible:
            dispatcher.utter_message(response="utter_return_not_included")
            tell_ineligible(dispatcher, outcome.ineligible)
        events = tell_refund(dispatcher, domain, outcome.refund)
        if events:  # paused for a person: they explain what happens next
            return events
    if outcome.next_step == "nothing_to_send":
        dispatcher.utter_message(response="utter_problem_nothing_to_send")
    elif outcome.next_step == "prepaid_label_by_email":
        dispatcher.utter_message(response="utter_problem_return_label", label_email=outcome.label_email)
    if outcome.problem == "damaged":  # issue #18: a goodwill gesture on top (action_grant_goodwill)
        dispatcher.utter_message(response="utter_goodwill_offer")
    return events


def _tell_late(dispatcher: CollectingDispatcher, domain: dict, outcome: problem_report.ProblemOutcome) -> list[dict]:
    facts = dict(order_number=outcome.order_number, eta=a_date(outcome.eta) if outcome.eta else "")
    if outcome.status == "not_late":
        if outcome.delivered_on:
            dispatcher.utter_message(response="utter_problem_arrived_on_time", delivered_on=a_date(outcome.delivered_on), **facts)
        else:
            dispatcher.utter_message(response="utter_problem_not_late", **facts)
        return []
    dispatcher.utter_message(response="utter_late_apology", **facts)
    if outcome.missed_christmas:
        dispatcher.utter_message(response="utter_late_missed_christmas")
    if outcome.status == "nothing_to_refund":
        dispatcher.utter_message(response="utter_late_nothing_to_refund", order_number=outcome.order_number)
        return [FollowupAction("utter_offer_human")]
    refund = outcome.refund
    if refund is not None and refund.created and refund.status != "pending_review":
        dispatcher.utter_message(response="utter_late_compensation", amount=money(refund.amount))
    return tell_refund(dispatcher, domain, refund)
