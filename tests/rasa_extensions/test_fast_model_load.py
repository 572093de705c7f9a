"""Rasa's TensorFlow models (DIET, the FAQ response selector, TED) loaded without the one-example
training step predict exactly what Rasa's own load gives (rasa_extensions/fast_model_load.py)."""
from __future__ import annotations

import asyncio

import pytest
import yaml
from rasa.engine.graph import ExecutionContext
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.utils.tensorflow.models import RasaModel

from dialogue_policies.ted_policy import TEDPolicy
from rasa_extensions import fast_model_load
from tests.dialogue_policies.test_ted_policy import story_points
from tests.servers import MODEL, ROOT, require_model

ODD_MESSAGES = ["where is my order 104802", "I want to return the sweater, it is too small", "asdf qwerty",
                "can I get a refund of $300 on #5301", "", "🎄🎁", "WHERE IS IT?!?!"]


def _messages() -> list[str]:
    """Every fifth training example of every topic, and some no topic has."""
    texts = []
    for path in sorted((ROOT / "data" / "nlu").glob("*.yml")):
        for item in yaml.safe_load(path.read_text()).get("nlu", []):
            texts += [line.strip()[2:] for line in str(item.get("examples", "")).splitlines()
                      if line.strip().startswith("- ")]
    return texts[::5] + ODD_MESSAGES


@pytest.fixture(scope="module")
def rasas_load():
    """Rasa's own RasaModel.load for the duration of a `with`, whatever is installed."""
    import nlu_components  # noqa: F401  (reading a Tinsel model imports it, and it installs the fast load)

    require_model()
    assert RasaModel.load.__func__ is fast_model_load.load
    return pytest.MonkeyPatch.context


def _parses(agent, texts: list[str]) -> list[dict]:
    loop = asyncio.new_event_loop()
    try:
        return [loop.run_until_complete(agent.parse_message(text)) for text in texts]
    finally:
        loop.close()


def test_the_nlu_models_understand_every_message_as_rasas_load_does(rasas_load):
    from rasa.core.agent import Agent

    with rasas_load() as patch:
        patch.setattr(RasaModel, "load", classmethod(fast_model_load.RASA_LOAD))
        reference = Agent.load(str(MODEL))
    fast = Agent.load(str(MODEL))
    texts = _messages()
    assert len(texts) > 300
    for expected, got in zip(_parses(reference, texts), _parses(fast, texts)):
        assert got == expected  # intent and its confidence, the whole ranking, entities, FAQ answer


def _ted(tmp_path_factory):
    storage, metadata = LocalModelStorage.from_model_archive(tmp_path_factory.mktemp("model"), MODEL)
    [node] = [n for n in metadata.predict_schema.nodes.values() if n.uses is TEDPolicy]
    context = ExecutionContext(metadata.predict_schema, metadata.model_id)
    return TEDPolicy.load({**TEDPolicy.get_default_config(), **node.config}, storage, node.resource, context), \
        metadata.domain


def test_ted_predicts_every_story_point_as_after_rasas_load(rasas_load, tmp_path_factory):
    with rasas_load() as patch:
        patch.setattr(RasaModel, "load", classmethod(fast_model_load.RASA_LOAD))
        reference, domain = _ted(tmp_path_factory)
    fast, _ = _ted(tmp_path_factory)
    points = story_points(domain)
    assert len(points) > 20
    for tracker in points:
        assert fast.predict_action_probabilities(tracker, domain).probabilities == \
               reference.predict_action_probabilities(tracker, domain).probabilities


def test_fine_tuning_keeps_rasas_own_load(monkeypatch):
    calls = []
    monkeypatch.setattr(fast_model_load, "RASA_LOAD", lambda *args, **kwargs: calls.append(args) or "rasa's")
    assert fast_model_load.load(RasaModel, "weights", None, None, True) == "rasa's"
    assert fast_model_load.load(RasaModel, "weights", None, None, False) == "rasa's"  # no prediction example
    assert len(calls) == 2
