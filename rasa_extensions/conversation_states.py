"""A conversation's dialogue states worked out as it grows, not again from its start (#16).

Before every action Rasa asks its policies what to do next, and each of them turns the whole
conversation into dialogue states (`Domain.states_for_tracker_history`): it replays every event
of the conversation on a fresh tracker and builds a state before each action. RulePolicy asks
twice, MemoizationPolicy and TEDPolicy once each, two or three times a turn, so a conversation
of n events costs O(n) per question and O(n^2) over its life. Under load (py-spy) that was a
fifth of a Rasa server's event loop.

Here each conversation keeps its replay (the tracker after the events seen so far and the states
built up to them), one per set of arguments. Asked again, it replays only the events added since
and builds only the last state; its earlier states are those Rasa's loop built, because a state
depends only on the events before it. The events are compared by identity with what the tracker
applies now (`applied_events`, which drops undone and reverted turns): a conversation read
afresh from the database, restarted or rewound starts a new replay. Callers edit the states they
get, so each gets its own copy (states hold strings and tuples under two levels of dicts).

The loop below is Rasa 3.6's `states_for_tracker_history`, split so it can stop and go on; it
calls that method's own helpers. tests/rasa_extensions/test_conversation_states.py compares it
with Rasa's at every point of every story and rule.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any, Dict, List, Optional, Text, Tuple

from rasa.shared.core.constants import PREVIOUS_ACTION
from rasa.shared.core.domain import Domain, State, SubState
from rasa.shared.core.events import ActionExecuted, Event
from rasa.shared.core.trackers import DialogueStateTracker

ORIGINAL_STATES_FOR_TRACKER_HISTORY = Domain.states_for_tracker_history
# Replays kept per server: two or three per conversation (one per set of arguments the
# policies use), for a few hundred conversations at once. Each holds a tracker's slots and
# pointers to the conversation's events, a few kB.
REMEMBERED_REPLAYS = 1500


class Replay:
    """One conversation's states, built event by event as Rasa's loop builds them."""

    def __init__(self, domain: Domain, tracker: DialogueStateTracker, omit_unset_slots: bool,
                 rule_only_data: Optional[Dict[Text, Any]], ignore_rule_only_turns: bool) -> None:
        self.domain, self.omit_unset_slots = domain, omit_unset_slots
        self.rule_only_data, self.ignore_rule_only_turns = rule_only_data, ignore_rule_only_turns
        self.tracker = tracker.init_copy()  # the conversation after `self.events`
        self.events: List[Event] = []
        self.states: List[State] = []  # one before each ActionExecuted of `self.events`
        self.last_ml_action: Optional[SubState] = None
        self.turn_was_hidden = False

    def continues(self, domain: Domain, rule_only_data: Optional[Dict[Text, Any]], applied: List[Event]) -> bool:
        """Whether the events replayed so far begin the conversation's applied events."""
        return (domain is self.domain and rule_only_data == self.rule_only_data
                and len(self.events) <= len(applied)
                and all(seen is event for seen, event in zip(self.events, applied)))

    def catch_up(self, applied: List[Event]) -> None:
        """Replays the events after those seen so far, building a state before each action."""
        for event in applied[len(self.events):]:
            if isinstance(event, ActionExecuted):
                self._add_state(self.states, event.hide_rule_turn)
            self.tracker.update(event)
            self.events.append(event)

    def states_now(self) -> List[State]:
        """A copy of the states so far with the state of now, as Rasa's method returns them."""
        states = [{kind: dict(sub_state) for kind, sub_state in state.items()} for state in self.states]
        remembered = (self.last_ml_action, self.turn_was_hidden)
        self._add_state(states, hide_rule_turn=False)
        self.last_ml_action, self.turn_was_hidden = remembered
        return states

    def _add_state(self, states: List[State], hide_rule_turn: bool) -> None:
        """One pass of the loop in Rasa's `states_for_tracker_history`, on the tracker as it is now."""
        domain, tracker = self.domain, self.tracker
        if self.ignore_rule_only_turns:
            if not self.turn_was_hidden:
                self.last_ml_action = domain._get_prev_action_sub_state(tracker)
            if not tracker.followup_action and not tracker.latest_action_name == tracker.active_loop_name:
                self.turn_was_hidden = hide_rule_turn
            if self.turn_was_hidden:
                return
        state = domain.get_active_state(tracker, omit_unset_slots=self.omit_unset_slots)
        if self.ignore_rule_only_turns:
            domain._remove_rule_only_features(state, self.rule_only_data)
            if states:
                domain._substitute_rule_only_user_input(state, states[-1])
            if self.last_ml_action:
                state[PREVIOUS_ACTION] = self.last_ml_action
        states.append(domain._clean_state(state))


class Replays:
    """The replays of the conversations a server is in, the least recently used dropped first."""

    def __init__(self, size: int = REMEMBERED_REPLAYS) -> None:
        self.size = size
        self._replays: OrderedDict[Tuple[Any, ...], Replay] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, key: Tuple[Any, ...]) -> Optional[Replay]:
        """The replay under `key`, out of the cache while its caller works on it."""
        with self._lock:
            return self._replays.pop(key, None)

    def give_back(self, key: Tuple[Any, ...], replay: Replay) -> None:
        with self._lock:
            self._replays[key] = replay
            while len(self._replays) > self.size:
                self._replays.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._replays.clear()

    def __len__(self) -> int:
        return len(self._replays)


REPLAYS = Replays()


def states_for_tracker_history_as_it_grows(
    self: Domain,
    tracker: DialogueStateTracker,
    omit_unset_slots: bool = False,
    ignore_rule_only_turns: bool = False,
    rule_only_data: Optional[Dict[Text, Any]] = None,
) -> List[State]:
    """Rasa's states for the tracker's history, replaying only the events added since last asked."""
    if not ignore_rule_only_turns:
        rule_only_data = None  # Rasa's loop reads it only for rule-only turns
    key = (tracker.sender_id, tracker.is_rule_tracker, omit_unset_slots, ignore_rule_only_turns)
    applied = tracker.applied_events()
    replay = REPLAYS.take(key)
    if replay is None or not replay.continues(self, rule_only_data, applied):
        replay = Replay(self, tracker, omit_unset_slots, rule_only_data, ignore_rule_only_turns)
    replay.catch_up(applied)
    states = replay.states_now()
    REPLAYS.give_back(key, replay)
    return states


def install(enabled: bool = True) -> None:
    """From now on conversations' states are built as they grow (False: Rasa's way), starting
    with none remembered."""
    REPLAYS.clear()
    Domain.states_for_tracker_history = (
        states_for_tracker_history_as_it_grows if enabled else ORIGINAL_STATES_FOR_TRACKER_HISTORY)
