"""The sentence-vector classifier trains, survives a save and load, and blends with DIET so that
an unrelated request DIET is unsure about does not start a store action."""
from __future__ import annotations

import numpy as np
import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.constants import TOKENS_NAMES
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from nlu_components.sentence_featurizer import SentenceEmbeddingFeaturizer, shared_encoder
from nlu_components.sentence_intent_classifier import SentenceIntentClassifier

EXAMPLES = {
    "track_order": ["where is my order", "has my parcel shipped yet", "track my package",
                    "when will my delivery arrive", "what's the status of my order"],
    "out_of_scope": ["what's my bank balance", "transfer 50 dollars to my savings account",
                     "book me a flight to Boston", "what's the weather tomorrow",
                     "set an alarm for 7am"],
    "greet": ["hi", "hello there", "good morning", "hey", "hiya"],
}


def _featurized(texts: list[str], intents: list[str] | None = None) -> list[Message]:
    tokenizer = WhitespaceTokenizer(WhitespaceTokenizer.get_default_config())
    featurizer = SentenceEmbeddingFeaturizer({"alias": "sentence"}, "sentence", shared_encoder())
    messages = [Message(data={TEXT: text, **({INTENT: intent} if intent else {})})
                for text, intent in zip(texts, intents or [None] * len(texts))]
    return featurizer.process(tokenizer.process(messages))


@pytest.fixture()
def storage(tmp_path):
    return LocalModelStorage(tmp_path)


@pytest.fixture()
def trained(storage) -> SentenceIntentClassifier:
    texts = [t for examples in EXAMPLES.values() for t in examples]
    intents = [intent for intent, examples in EXAMPLES.items() for _ in examples]
    classifier = SentenceIntentClassifier.create(
        SentenceIntentClassifier.get_default_config(), storage, Resource("sentence_intent"),
        ExecutionContext(GraphSchema({}), "test"))
    classifier.train(TrainingData(_featurized(texts, intents)))
    return classifier


def test_a_paraphrase_it_never_saw_gets_the_intent_it_means(trained):
    parcel, bank = trained.process(_featurized(
        ["can you tell me when my package gets here", "how much money is in my checking account"]))
    assert parcel.get(INTENT)["name"] == "track_order"
    assert bank.get(INTENT)["name"] == "out_of_scope"
    assert [r["name"] for r in parcel.get(INTENT_RANKING_KEY)][0] == "track_order"
    assert sum(r["confidence"] for r in parcel.get(INTENT_RANKING_KEY)) == pytest.approx(1.0)


def test_a_bank_question_diet_half_believes_is_a_store_action_is_not_one(trained):
    (message,) = _featurized(["how much money is in my checking account"])
    message.set(INTENT, {"name": "track_order", "confidence": 0.55})
    message.set(INTENT_RANKING_KEY, [{"name": "track_order", "confidence": 0.55},
                                     {"name": "out_of_scope", "confidence": 0.40},
                                     {"name": "greet", "confidence": 0.05}])
    trained.process([message])
    assert message.get(INTENT)["name"] == "out_of_scope"


def test_when_diet_is_sure_and_right_the_blend_keeps_its_answer(trained):
    (message,) = _featurized(["hello, where is my order?"])
    message.set(INTENT_RANKING_KEY, [{"name": "track_order", "confidence": 0.97},
                                     {"name": "greet", "confidence": 0.03}])
    trained.process([message])
    assert message.get(INTENT)["name"] == "track_order"
    assert message.get(INTENT)["confidence"] > 0.8


def test_the_saved_model_ranks_exactly_like_the_trained_one(trained, storage):
    loaded = SentenceIntentClassifier.load(
        SentenceIntentClassifier.get_default_config(), storage, Resource("sentence_intent"),
        ExecutionContext(GraphSchema({}), "test"))
    texts = ["is my order on its way", "play some music"]
    before = [m.get(INTENT_RANKING_KEY) for m in trained.process(_featurized(texts))]
    after = [m.get(INTENT_RANKING_KEY) for m in loaded.process(_featurized(texts))]
    assert [[r["name"] for r in ranking] for ranking in after] == \
        [[r["name"] for r in ranking] for ranking in before]
    assert np.allclose([r["confidence"] for ranking in after for r in ranking],
                       [r["confidence"] for ranking in before for r in ranking], atol=1e-6)


def test_a_message_without_words_keeps_the_earlier_answer(trained):
    spaces = Message(data={TEXT: "   ", TOKENS_NAMES[TEXT]: []})
    spaces.set(INTENT, {"name": "greet", "confidence": 0.3})
    trained.process([spaces])
    assert spaces.get(INTENT) == {"name": "greet", "confidence": 0.3}
    assert spaces.get(INTENT_RANKING_KEY) is None


def test_an_untrained_model_changes_nothing(storage):
    classifier = SentenceIntentClassifier.load(
        SentenceIntentClassifier.get_default_config(), storage, Resource("never_trained"),
        ExecutionContext(GraphSchema({}), "test"))
    (message,) = _featurized(["where is my order"])
    message.set(INTENT, {"name": "track_order", "confidence": 0.9})
    classifier.process([message])
    assert message.get(INTENT) == {"name": "track_order", "confidence": 0.9}
