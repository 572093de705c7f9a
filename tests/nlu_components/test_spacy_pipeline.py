"""spaCy once per message gives exactly what Rasa's two passes gave: the same tokens and lemmas
(what DIET learns from) and the same entities (what the forms read)."""
from __future__ import annotations

from pathlib import Path

import pytest
from rasa.engine.graph import ExecutionContext
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.extractors.spacy_entity_extractor import SpacyEntityExtractor
from rasa.nlu.tokenizers.spacy_tokenizer import SpacyTokenizer
from rasa.nlu.utils import spacy_utils
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message

from nlu_components import spacy_pipeline

MODEL_DIR = Path(__file__).resolve().parents[2] / ".venv" / "spacy-model"
DIMENSIONS = ["MONEY", "DATE", "CARDINAL", "PERSON"]
MESSAGES = [
    "Where is my order #104217? I bought it for Anna Smith on Dec 3 and paid $54.99",
    "hi", "", "i want to return two sweaters from order 104701, they cost 120 dollars",
    "My email is Anna.Smith@example.com and my birthday is March 14",
    "REFUND ME NOW!!! 3 WEEKS LATE", "Ich möchte mein Paket zurückschicken 🎁",
]

pytestmark = pytest.mark.skipif(not MODEL_DIR.exists(), reason="make install links the spaCy model")


def processed(nlp_class, extractor_class, tmp_path: Path) -> list[Message]:
    """Runs SpacyNLP, SpacyTokenizer and the entity extractor as the graph does."""
    context = ExecutionContext(graph_schema=None, model_id="test")
    storage = LocalModelStorage(tmp_path)
    nlp = nlp_class.create({"model": str(MODEL_DIR), "case_sensitive": False}, storage,
                           Resource("nlp"), context)
    model = nlp.provide()
    tokenizer = SpacyTokenizer.create(SpacyTokenizer.get_default_config(), storage,
                                      Resource("tok"), context)
    extractor = extractor_class.create({**extractor_class.get_default_config(),
                                        "dimensions": DIMENSIONS}, storage, Resource("ent"), context)
    messages = [Message({TEXT: text}) for text in MESSAGES]
    nlp.process(messages, model)
    tokenizer.process(messages)
    return extractor.process(messages, model)


def summary(message: Message) -> tuple:
    tokens = [(t.text, t.start, t.end, t.lemma) for t in message.get("text_tokens") or []]
    entities = [(e["entity"], e["value"], e["start"], e["end"]) for e in message.get(ENTITIES, [])]
    return tokens, entities


def test_one_pass_gives_what_rasas_two_passes_gave(tmp_path):
    rasa_way = processed(spacy_utils.SpacyNLP, SpacyEntityExtractor, tmp_path / "rasa")
    ours = processed(spacy_pipeline.SpacyNLP, spacy_pipeline.SpacyRecognizerExtractor, tmp_path / "ours")
    assert [summary(m) for m in ours] == [summary(m) for m in rasa_way]
    people = [e for m in ours for e in summary(m)[1] if e[0] == "PERSON"]
    assert people, "the recognizer found the names in the cased text"


def test_the_first_pass_leaves_the_recognizer_out(tmp_path):
    model = spacy_pipeline.SpacyNLP.load_model(str(MODEL_DIR))
    assert spacy_pipeline.RECOGNIZER not in model.model.pipe_names
    assert "lemmatizer" in model.model.pipe_names
