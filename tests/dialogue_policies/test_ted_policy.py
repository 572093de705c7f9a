"""TED's remembered predictions are the ones TensorFlow gives, for every point of every story,
and a dialogue state seen before is answered without running the model again."""
from __future__ import annotations

import pytest
from rasa.core.policies import ted_policy as rasa_ted
from rasa.engine.graph import ExecutionContext
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.shared.core.events import ActionExecuted, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.core.training_data.story_reader.yaml_story_reader import YAMLStoryReader

from dialogue_policies.ted_policy import TEDPolicy
from tests.servers import MODEL, ROOT, require_model


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """The trained model's TED and domain, loaded from the model file as Rasa loads them."""
    require_model()
    storage, metadata = LocalModelStorage.from_model_archive(tmp_path_factory.mktemp("model"), MODEL)
    [node] = [n for n in metadata.predict_schema.nodes.values() if n.uses is TEDPolicy]
    context = ExecutionContext(metadata.predict_schema, metadata.model_id)
    config = {**TEDPolicy.get_default_config(), **node.config}
    return TEDPolicy.load(config, storage, node.resource, context), metadata.domain


def story_points(domain) -> list[DialogueStateTracker]:
    """Every point in the training stories where the bot picks its next action."""
    trackers = []
    for path in sorted((ROOT / "data" / "stories").glob("*.yml")):
        for story in YAMLStoryReader(domain).read_from_file(path):
            events = []
            for event in story.events:
                if isinstance(event, ActionExecuted):
                    trackers.append(DialogueStateTracker.from_events(story.block_name, list(events), domain.slots))
                events.append(event)
    return [t for t in trackers if any(isinstance(e, UserUttered) for e in t.events)]


def test_remembered_predictions_are_the_models_own(trained):
    policy, domain = trained
    points = story_points(domain)
    assert len(points) > 20
    policy.remembered.clear()
    for tracker in points:
        remembered = policy.predict_action_probabilities(tracker, domain)
        computed = rasa_ted.TEDPolicy.predict_action_probabilities(policy, tracker, domain)
        assert remembered.probabilities == computed.probabilities
        assert remembered.policy_name == computed.policy_name == "TEDPolicy"
    assert 0 < len(policy.remembered) <= len(points)


def test_a_state_seen_before_does_not_run_the_model(trained, monkeypatch):
    policy, domain = trained
    points = story_points(domain)
    policy.remembered.clear()
    first = [policy.predict_action_probabilities(t, domain).probabilities for t in points]
    runs = []
    monkeypatch.setattr(rasa_ted.TEDPolicy, "predict_action_probabilities",
                        lambda *args, **kwargs: runs.append(args) or pytest.fail("the model ran again"))
    again = [policy.predict_action_probabilities(t, domain).probabilities for t in points]
    assert again == first and runs == []


def test_a_caller_changing_its_prediction_changes_no_one_elses(trained):
    policy, domain = trained
    tracker = story_points(domain)[0]
    mine = policy.predict_action_probabilities(tracker, domain)
    mine.probabilities[0] = 99.0
    mine.optional_events.append("anything")
    theirs = policy.predict_action_probabilities(tracker, domain)
    assert theirs.probabilities[0] != 99.0 and theirs.optional_events == []


def test_the_least_recently_used_state_is_forgotten_when_full(trained, monkeypatch):
    from dialogue_policies import ted_policy

    policy, domain = trained
    monkeypatch.setattr(ted_policy, "REMEMBERED_STATES", 2)
    policy.remembered.clear()
    keys = []
    for tracker in story_points(domain):
        policy.predict_action_probabilities(tracker, domain)
        key = policy.dialogue_state(tracker, domain, None)
        keys = [k for k in keys if k != key] + [key]
    assert list(policy.remembered) == keys[-2:]
