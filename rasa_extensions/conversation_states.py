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

`applied_events` itself walked every event of the conversation each time it was asked (several
times a message: each question above, each revert, Rasa's own checks): 6-8.5 % of the event
loop under load (py-spy) once the states were built as they grow. A tracker now keeps its applied events and
works out only the events appended to it since; the test compares them with Rasa's after every
event of generated event sequences.
"""
from __future__ import annotations

import itertools
import operator
import threading
from collections import OrderedDict
from typing import Any, Deque, Dict, List, Optional, Set, Text, Tuple

from rasa.shared.core.constants import PREVIOUS_ACTION
from rasa.shared.core.domain import Domain, State, SubState
from rasa.shared.core.events import (ActionExecuted, ActionReverted, ActiveLoop, Event, Restarted, SessionStarted,
                                      UserUttered, UserUtteranceReverted)
from rasa.shared.core.trackers import DialogueStateTracker

ORIGINAL_STATES_FOR_TRACKER_HISTORY = Domain.states_for_tracker_history
ORIGINAL_APPLIED_EVENTS = DialogueStateTracker.applied_events
APPLIED_EVENTS_ATTRIBUTE = "_tinsel_applied_events"  # where a tracker keeps its AppliedEvents
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
                and all(map(operator.is_, self.events, applied)))

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


class AppliedEvents:
    """A tracker's applied events (Rasa's `applied_events`: what is left once undone turns are
    dropped) worked out up to its first `count` events, and carried on from there as events are
    appended. Rasa's loop treats a loop's action differently once that loop has been activated
    anywhere in the conversation, so an event activating a loop not seen before starts it again."""

    def __init__(self, events: Deque[Event]) -> None:
        self.events = events  # the tracker's own deque, appended to in place
        self.count = 0
        self.last: Optional[Event] = None  # events[count - 1]
        self.loop_names: Set[Text] = set()
        self.applied: List[Event] = []

    def continues(self, events: Deque[Event]) -> bool:
        """Whether `events` are the ones worked out so far with events appended (none replaced,
        dropped or removed)."""
        return events is self.events and self.count <= len(events) and (
            self.count == 0 or events[self.count - 1] is self.last)

    def catch_up(self, tracker: DialogueStateTracker) -> None:
        new = list(itertools.islice(self.events, self.count, None))
        if not activated_loops(new) <= self.loop_names:
            new, self.applied = list(self.events), []
            self.loop_names = activated_loops(new)
        for event in new:
            self._apply(tracker, event)
        self.count = len(self.events)
        self.last = self.events[-1] if self.events else None

    def _apply(self, tracker: DialogueStateTracker, event: Event) -> None:
        """One pass of the loop in Rasa 3.6's `applied_events`, with its helpers."""
        applied = self.applied
        if isinstance(event, (Restarted, SessionStarted)):
            applied.clear()
        elif isinstance(event, ActionReverted):
            tracker._undo_till_previous(ActionExecuted, applied)
        elif isinstance(event, UserUtteranceReverted):
            tracker._undo_till_previous(UserUttered, applied)
            tracker._undo_till_previous(ActionExecuted, applied)
        elif (isinstance(event, ActionExecuted) and event.action_name in self.loop_names
              and not tracker._first_loop_execution_or_unhappy_path(event.action_name, applied)):
            tracker._undo_till_previous_loop_execution(event.action_name, applied)
        else:
            applied.append(event)


def activated_loops(events: List[Event]) -> Set[Text]:
    return {e.name for e in events if isinstance(e, ActiveLoop) and e.name}


def applied_events_as_they_grow(self: DialogueStateTracker) -> List[Event]:
    """Rasa's applied events of the tracker, working out only the events appended since last asked
    (policies and the states above ask several times a message)."""
    memo = self.__dict__.get(APPLIED_EVENTS_ATTRIBUTE)
    if memo is None or not memo.continues(self.events):
        memo = self.__dict__[APPLIED_EVENTS_ATTRIBUTE] = AppliedEvents(self.events)
    if memo.count != len(self.events):
        memo.catch_up(self)
    return list(memo.applied)  # the caller's own list, as Rasa's


def install(enabled: bool = True) -> None:
    """From now on conversations' states and applied events are worked out as they grow (False:
    Rasa's way), starting with none remembered."""
    REPLAYS.clear()
    Domain.states_for_tracker_history = (
        states_for_tracker_history_as_it_grows if enabled else ORIGINAL_STATES_FOR_TRACKER_HISTORY)
    DialogueStateTracker.applied_events = applied_events_as_they_grow if enabled else ORIGINAL_APPLIED_EVENTS
