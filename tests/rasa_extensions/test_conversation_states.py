"""Dialogue states built as a conversation grows (rasa_extensions/conversation_states.py): at
every point of every training story and rule, with the arguments Rasa's policies use, the states
are Rasa's own, asked once or again, as the story grows or read afresh; a policy editing its copy
changes nothing for the next; rewound, reverted and restarted conversations get Rasa's states;
asked again, only the new events are replayed. The applied events, worked out as events are
appended, are Rasa's after every event of any sequence (hypothesis), loops activated late, undone
turns, restarts, a capped history and a replaced event list included. The project's domain and
stories, no model."""
from __future__ import annotations

from collections import deque

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (ActionExecuted, ActionExecutionRejected, ActionReverted, ActiveLoop,
                                      DefinePrevUserUtteredFeaturization, Restarted, SessionStarted, SlotSet,
                                      UserUttered, UserUtteranceReverted)
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.core.training_data.story_reader.yaml_story_reader import YAMLStoryReader

from rasa_extensions import conversation_states
from tests.servers import ROOT

RULE_ONLY_DATA = {"slots": ["requested_slot"], "active_loops": []}
# (omit_unset_slots, ignore_rule_only_turns, rule_only_data) as RulePolicy, and as
# MemoizationPolicy and TEDPolicy, ask for them.
POLICY_ARGUMENTS = [(False, False, None), (False, False, RULE_ONLY_DATA), (False, True, RULE_ONLY_DATA)]


def original(domain: Domain, tracker: DialogueStateTracker, arguments) -> list:
    omit, ignore, rule_only = arguments
    return conversation_states.ORIGINAL_STATES_FOR_TRACKER_HISTORY(
        domain, tracker, omit_unset_slots=omit, ignore_rule_only_turns=ignore, rule_only_data=rule_only)


def shared(domain: Domain, tracker: DialogueStateTracker, arguments) -> list:
    omit, ignore, rule_only = arguments
    return tracker.past_states(domain, omit_unset_slots=omit, ignore_rule_only_turns=ignore,
                               rule_only_data=rule_only)


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(str(ROOT / "domain"))


@pytest.fixture(scope="module")
def story_points(domain) -> list[DialogueStateTracker]:
    """Every point in the training stories and rules where the bot picks its next action."""
    trackers = []
    for folder in ("stories", "rules"):
        for path in sorted((ROOT / "data" / folder).glob("*.yml")):
            for story in YAMLStoryReader(domain).read_from_file(path):
                events = []
                for event in story.events:
                    if isinstance(event, ActionExecuted):
                        trackers.append(DialogueStateTracker.from_events(story.block_name, list(events),
                                                                         domain.slots))
                    events.append(event)
    return [t for t in trackers if any(isinstance(e, UserUttered) for e in t.events)]


@pytest.fixture
def sharing():
    conversation_states.install()
    yield
    conversation_states.install(False)


def test_at_every_point_the_states_are_rasas_own_asked_once_or_again(domain, story_points, sharing):
    assert len(story_points) > 50
    for tracker in story_points:
        for arguments in POLICY_ARGUMENTS:
            expected = original(domain, tracker, arguments)
            assert shared(domain, tracker, arguments) == expected
            assert shared(domain, tracker, arguments) == expected


def test_a_policy_editing_its_copy_changes_nothing_for_the_next(domain, story_points, sharing):
    tracker = max(story_points, key=lambda t: len(t.events))
    arguments = POLICY_ARGUMENTS[2]
    expected = original(domain, tracker, arguments)
    for _ in range(2):  # the first as worked out, the second as remembered
        edited = shared(domain, tracker, arguments)
        edited[-1].clear()
        edited.pop(0)
        assert shared(domain, tracker, arguments) == expected


def test_a_tracker_that_grew_gets_its_new_states(domain, story_points, sharing):
    tracker = story_points[0].copy()
    before = shared(domain, tracker, POLICY_ARGUMENTS[0])
    tracker.update(ActionExecuted("action_listen"))
    tracker.update(UserUttered("thanks", intent={"name": "thank_you", "confidence": 1.0}))
    after = shared(domain, tracker, POLICY_ARGUMENTS[0])
    assert after == original(domain, tracker, POLICY_ARGUMENTS[0])
    assert after != before


def test_a_conversation_read_afresh_gets_rasas_states(domain, story_points, sharing):
    """Equal events but new objects, as when the tracker store reads the conversation again."""
    tracker = max(story_points, key=lambda t: len(t.events))
    for arguments in POLICY_ARGUMENTS:
        shared(domain, tracker, arguments)
        afresh = DialogueStateTracker.from_dict(tracker.sender_id, [e.as_dict() for e in tracker.events],
                                                domain.slots)
        assert shared(domain, afresh, arguments) == original(domain, afresh, arguments)


@pytest.mark.parametrize("undo", [
    [UserUtteranceReverted()],
    [ActionReverted()],
    [Restarted()],
    [UserUtteranceReverted(), ActionExecuted("action_listen"),
     UserUttered("thanks", intent={"name": "thank_you", "confidence": 1.0})],
])
def test_rewound_and_restarted_conversations_get_rasas_states(domain, story_points, sharing, undo):
    tracker = max(story_points, key=lambda t: len(t.events)).copy()
    for arguments in POLICY_ARGUMENTS:
        shared(domain, tracker, arguments)
    for event in undo:
        tracker.update(event)
        for arguments in POLICY_ARGUMENTS:
            assert shared(domain, tracker, arguments) == original(domain, tracker, arguments)


def test_a_growing_conversation_replays_only_its_new_events(domain, story_points, sharing, monkeypatch):
    built = []
    original_get_active_state = Domain.get_active_state

    def counting(self, tracker, omit_unset_slots=False):
        built.append(1)
        return original_get_active_state(self, tracker, omit_unset_slots=omit_unset_slots)

    monkeypatch.setattr(Domain, "get_active_state", counting)
    tracker = max(story_points, key=lambda t: len(t.events)).copy()
    arguments = POLICY_ARGUMENTS[0]
    shared(domain, tracker, arguments)
    built.clear()
    shared(domain, tracker, arguments)
    assert len(built) == 1  # asked again: only the state of now
    built.clear()
    for event in [ActionExecuted("utter_greet"), SlotSet("requested_slot", None), ActionExecuted("action_listen")]:
        tracker.update(event)
    states = shared(domain, tracker, arguments)
    assert len(built) == 3  # a state before each of the two new actions, and the state of now
    assert states == original(domain, tracker, arguments)


def test_turns_hidden_by_rules_as_rasa_hides_them(domain, story_points, sharing):
    """In a server, actions a rule predicted are marked hide_rule_turn: the states that
    MemoizationPolicy and TED see skip those turns, the conversation growing one event at a time."""
    story = max(story_points, key=lambda t: len(t.events))
    tracker = DialogueStateTracker(story.sender_id, domain.slots)
    for n, event in enumerate(story.events):
        if isinstance(event, ActionExecuted) and n % 3:
            event = ActionExecuted(event.action_name, hide_rule_turn=True)
        tracker.update(event)
        for arguments in POLICY_ARGUMENTS:
            assert shared(domain, tracker, arguments) == original(domain, tracker, arguments)


def test_replays_kept_are_bounded(domain, story_points, sharing, monkeypatch):
    monkeypatch.setattr(conversation_states.REPLAYS, "size", 5)
    for n, tracker in enumerate(story_points[:20]):
        named = DialogueStateTracker.from_events(f"shopper-{n}", list(tracker.events), domain.slots)
        shared(domain, named, POLICY_ARGUMENTS[0])
    assert len(conversation_states.REPLAYS) == 5


def test_off_is_rasas_own_method():
    conversation_states.install()
    conversation_states.install(False)
    assert Domain.states_for_tracker_history is conversation_states.ORIGINAL_STATES_FOR_TRACKER_HISTORY
    assert DialogueStateTracker.applied_events is conversation_states.ORIGINAL_APPLIED_EVENTS


# Every kind of event Rasa's applied_events treats in its own way, for two forms.
EVENT_MAKERS = [
    lambda: UserUttered("hi", intent={"name": "greet", "confidence": 1.0}),
    lambda: ActionExecuted("action_listen"),
    lambda: ActionExecuted("utter_greet"),
    lambda: ActionExecuted("order_status_form"),
    lambda: ActionExecuted("return_form"),
    lambda: ActiveLoop("order_status_form"),
    lambda: ActiveLoop("return_form"),
    lambda: ActiveLoop(None),
    lambda: ActionExecutionRejected("order_status_form"),
    lambda: SlotSet("requested_slot", "order_number"),
    lambda: DefinePrevUserUtteredFeaturization(False),
    lambda: ActionReverted(),
    lambda: UserUtteranceReverted(),
    lambda: Restarted(),
    lambda: SessionStarted(),
]


def rasas_applied_events(tracker: DialogueStateTracker) -> list:
    return conversation_states.ORIGINAL_APPLIED_EVENTS(tracker)


def same_events(got: list, expected: list) -> bool:
    return len(got) == len(expected) and all(a is b for a, b in zip(got, expected))


@settings(max_examples=300, deadline=None)
@given(kinds=st.lists(st.integers(0, len(EVENT_MAKERS) - 1), max_size=40),
       asked=st.lists(st.booleans(), min_size=40, max_size=40),
       max_event_history=st.sampled_from([None, 6]))
def test_applied_events_are_rasas_after_every_event(kinds, asked, max_event_history):
    conversation_states.install()
    try:
        tracker = DialogueStateTracker("shopper", [], max_event_history=max_event_history)
        for kind, ask in zip(kinds, asked):
            tracker.update(EVENT_MAKERS[kind]())  # reverts and restarts ask for them too
            if ask:
                got = tracker.applied_events()
                assert same_events(got, rasas_applied_events(tracker))
                got.clear()  # the caller's own list
        assert same_events(tracker.applied_events(), rasas_applied_events(tracker))
    finally:
        conversation_states.install(False)


def test_a_loop_activated_after_its_action_ran_changes_the_earlier_events(sharing):
    """Rasa drops a loop's repeated runs only once the loop is known, from anywhere in the
    conversation: activating it late reworks the events before."""
    tracker = DialogueStateTracker("shopper", [])
    for event in [ActionExecuted("return_form"), UserUttered("hi"), ActionExecuted("return_form")]:
        tracker.update(event)
    before = tracker.applied_events()
    tracker.update(ActiveLoop("return_form"))
    after = tracker.applied_events()
    assert same_events(after, rasas_applied_events(tracker))
    assert len(after) < len(before) + 1


def test_a_replaced_event_list_is_worked_out_afresh(sharing):
    tracker = DialogueStateTracker("shopper", [])
    for maker in EVENT_MAKERS[:5]:
        tracker.update(maker())
    tracker.applied_events()
    tracker.events = deque(list(tracker.events)[:2] + [ActionExecuted("utter_greet")] * 3)
    assert same_events(tracker.applied_events(), rasas_applied_events(tracker))


def test_applied_events_work_out_only_the_events_appended_since(sharing, monkeypatch):
    worked_out = []
    original_apply = conversation_states.AppliedEvents._apply

    def counting(self, tracker, event):
        worked_out.append(event)
        original_apply(self, tracker, event)

    monkeypatch.setattr(conversation_states.AppliedEvents, "_apply", counting)
    tracker = DialogueStateTracker("shopper", [])
    for maker in EVENT_MAKERS[:5]:
        tracker.update(maker())
    tracker.applied_events()
    worked_out.clear()
    tracker.applied_events()
    assert worked_out == []
    tracker.update(ActionExecuted("action_listen"))
    tracker.applied_events()
    assert len(worked_out) == 1
