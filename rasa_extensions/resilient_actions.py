"""Custom actions that answer the shopper even when the action server (or the store database
behind it) is down.

Rasa 3.6's RemoteAction waits 300 s for the action server and, when the call fails, the
processor only logs the error and drops the turn: the shopper gets no reply at all. Here a
RemoteAction subclass waits at most ACTION_TIMEOUT_SECONDS and, on a refused connection, a
timeout or a 5xx answer (the action server answers 500 when an action's database call fails),
says the domain response `utter_order_system_unreachable` instead. That reply offers a human
contact (SUPPORT_CONTACT) that needs neither the action server nor the database. Nothing is
stored for the failed action, so the conversation (an active form included) carries on where
it was once the part is back.

install() rebinds the name in both modules that create RemoteActions: rasa.core.actions.action
(custom actions) and rasa.core.actions.forms (validate_<form> calls), which imports it by name.
The subclass also checks the action server's answers against a schema compiled once
(rasa_extensions/action_response.py) and makes its calls on kept-alive connections
(rasa_extensions/action_connection.py).
"""
from __future__ import annotations

import asyncio
import logging
from typing import Any, Dict, List, Text

import aiohttp
import rasa.core.actions.action as rasa_action
import rasa.core.actions.forms as rasa_forms
from rasa.core.actions.action import ActionExecutionRejection, create_bot_utterance
from rasa.shared.core.constants import REQUESTED_SLOT
from rasa.shared.core.events import BotUttered, Event, SlotSet, UserUttered
from rasa.shared.exceptions import RasaException
from rasa.utils.endpoints import ClientResponseError as ActionServerResponseError

from bot.settings import get_settings
from rasa_extensions import action_connection, action_response, message_admission

logger = logging.getLogger(__name__)

UNREACHABLE_RESPONSE = "utter_order_system_unreachable"
VALIDATE_PREFIX = "validate_"
ORIGINAL_REMOTE_ACTION = rasa_action.RemoteAction


def is_unreachable(error: BaseException) -> bool:
    """A refused/reset connection, a timeout or a 5xx: the part is down, not the request wrong.
    A 4xx (unknown action, wrong token) is a bug in our setup and is left to fail loudly."""
    for cause in (error, error.__cause__, error.__context__):
        if isinstance(cause, (ActionServerResponseError, aiohttp.ClientResponseError)):
            return cause.status >= 500
        if isinstance(cause, (aiohttp.ClientConnectionError, asyncio.TimeoutError)):
            return True
    return False


def events_this_turn(tracker: Any) -> List[Event]:
    """The tracker's events since the shopper's latest message."""
    turn: List[Event] = []
    for event in reversed(tracker.events):
        if isinstance(event, UserUttered):
            break
        turn.append(event)
    return turn[::-1]


def said_this_turn(tracker: Any) -> bool:
    """Several custom actions can fail in one turn (slot mappings, the form's validation, the
    form's next step); the shopper hears the line once."""
    return any(isinstance(event, BotUttered) and event.metadata.get("utter_action") == UNREACHABLE_RESPONSE
               for event in events_this_turn(tracker))


def unvalidated_slot_resets(tracker: Any) -> List[Event]:
    """Rasa puts the values it extracted this turn into the slots before validate_<form> runs;
    when validation could not run, those values are unchecked (an unverified email must not let
    the order form finish), so they are cleared and the form asks for them again."""
    keys = {event.key for event in events_this_turn(tracker)
            if isinstance(event, SlotSet) and event.key != REQUESTED_SLOT}
    return [SlotSet(key, None) for key in sorted(keys)]


class ResilientRemoteAction(ORIGINAL_REMOTE_ACTION):
    """Rasa's RemoteAction with a short timeout and an honest reply when the part is down, its
    calls on kept-alive connections (action_connection.py)."""

    def __init__(self, name: Text, action_endpoint: Any) -> None:
        super().__init__(name, action_connection.kept_alive(action_endpoint))

    async def run(self, output_channel: Any, nlg: Any, tracker: Any, domain: Any) -> List[Event]:
        if not self.action_endpoint:
            return await super().run(output_channel, nlg, tracker, domain)
        timeout = get_settings().action_timeout_seconds
        try:
            call = message_admission.waiting_for_another_part(super().run(output_channel, nlg, tracker, domain))
            return await asyncio.wait_for(call, timeout)
        except ActionExecutionRejection:
            raise
        except (RasaException, asyncio.TimeoutError) as error:
            if not is_unreachable(error):
                raise
            logger.error("Custom action '%s' failed, the order system is unreachable: %r", self.name(), error)
            events = [] if said_this_turn(tracker) else await self.unreachable_reply(nlg, tracker, output_channel)
            if self.name().startswith(VALIDATE_PREFIX):
                events += unvalidated_slot_resets(tracker)
            return events

    def _validate_action_result(self, result: Dict[Text, Any]) -> bool:
        """As Rasa checks it, with the schema compiled once (Rasa re-checks the schema itself
        on every call: about a third of a turn's time, bench/profile_turn.py)."""
        return action_response.validate(result)

    async def unreachable_reply(self, nlg: Any, tracker: Any, output_channel: Any) -> List[Event]:
        message = await nlg.generate(UNREACHABLE_RESPONSE, tracker, output_channel.name(),
                                     support_contact=get_settings().support_contact)
        if not message:
            return []
        message["utter_action"] = UNREACHABLE_RESPONSE
        return [create_bot_utterance(message)]


def install() -> None:
    """Makes every RemoteAction Rasa creates from now on a ResilientRemoteAction."""
    rasa_action.RemoteAction = ResilientRemoteAction
    rasa_forms.RemoteAction = ResilientRemoteAction
