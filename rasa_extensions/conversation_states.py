"""A conversation's dialogue states worked out once per prediction, not once per policy (#16).

Before every action Rasa asks its policies what to do next, and each of them turns the whole
conversation into dialogue states again (`Domain.states_for_tracker_history`, which replays
every event): RulePolicy twice, MemoizationPolicy and TEDPolicy once each, the last two with the
same arguments. Under load (py-spy) that was 14 % of a Rasa server's event loop. Here the last
few results are kept with the tracker, its event count and its last event, and a policy asking
again for the same tracker in the same state with the same arguments gets a copy (the
featurizers edit the states they are given). Trackers only grow by appending events, so the
same tracker with as many events and the same last one has the same history.
"""
from __future__ import annotations

import copy
import threading
from collections import deque
from typing import Any, Deque, Dict, List, Optional, Text, Tuple

from rasa.shared.core.domain import Domain, State
from rasa.shared.core.trackers import DialogueStateTracker

ORIGINAL_STATES_FOR_TRACKER_HISTORY = Domain.states_for_tracker_history
# A prediction asks with two sets of arguments; a few more cover a conversation's next action.
REMEMBERED = 4

_remembered = threading.local()


def _recent() -> Deque[Tuple[Tuple[Any, ...], Tuple[Any, ...], List[State]]]:
    if not hasattr(_remembered, "states"):
        _remembered.states = deque(maxlen=REMEMBERED)
    return _remembered.states


def states_for_tracker_history_once(
    self: Domain,
    tracker: DialogueStateTracker,
    omit_unset_slots: bool = False,
    ignore_rule_only_turns: bool = False,
    rule_only_data: Optional[Dict[Text, Any]] = None,
) -> List[State]:
    """Rasa's states for the tracker's history, from the last few results when they fit."""
    same_objects = (self, tracker, tracker.events[-1] if tracker.events else None, rule_only_data)
    same_values = (len(tracker.events), omit_unset_slots, ignore_rule_only_turns)
    recent = _recent()
    for objects, values, states in recent:
        if values == same_values and all(a is b for a, b in zip(objects, same_objects)):
            return copy.deepcopy(states)
    states = ORIGINAL_STATES_FOR_TRACKER_HISTORY(
        self, tracker, omit_unset_slots=omit_unset_slots, ignore_rule_only_turns=ignore_rule_only_turns,
        rule_only_data=rule_only_data)
    recent.append((same_objects, same_values, copy.deepcopy(states)))
    return states


def install(enabled: bool = True) -> None:
    """From now on policies share the states worked out for one prediction (False: Rasa's way),
    starting with none remembered."""
    _recent().clear()
    Domain.states_for_tracker_history = (
        states_for_tracker_history_once if enabled else ORIGINAL_STATES_FOR_TRACKER_HISTORY)
