"""Dialogue states built as a conversation grows (rasa_extensions/conversation_states.py): at
every point of every training story and rule, with the arguments Rasa's policies use, the states
are Rasa's own, asked once or again, as the story grows or read afresh; a policy editing its copy
changes nothing for the next; rewound, reverted and restarted conversations get Rasa's states;
asked again, only the new events are replayed. The project's domain and stories, no model."""
from __future__ import annotations

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (ActionExecuted, ActionReverted, Restarted, SlotSet, UserUttered,
                                      UserUtteranceReverted)
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
