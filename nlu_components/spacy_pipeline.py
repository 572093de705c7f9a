"""spaCy once per message instead of twice (issue #16).

Rasa's SpacyNLP runs en_core_web_sm on the lowercased text (for tokens and lemmas), including its
named-entity recognizer, whose result nobody reads; Rasa's SpacyEntityExtractor then runs the whole
pipeline again on the original text, because NER needs the case. In en_core_web_sm the recognizer
has a token-to-vector layer of its own (config.cfg: components.ner.model.tok2vec), so it gives the
same entities when it runs alone on the tokenized text. Here the first pass leaves the recognizer
out and the extractor runs only the recognizer: the same tokens, lemmas and entities, about half
the spaCy time (tests/nlu_components/test_spacy_pipeline.py).
"""
from __future__ import annotations

from typing import Any, Dict, List, Text

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.extractors.spacy_entity_extractor import SpacyEntityExtractor
from rasa.nlu.utils import spacy_utils
from rasa.nlu.utils.spacy_utils import SpacyModel
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message

RECOGNIZER = "ner"


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.MODEL_LOADER, DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER],
    is_trainable=False,
    model_from="SpacyNLP",
)
class SpacyNLP(spacy_utils.SpacyNLP):
    """Rasa's SpacyNLP with the recognizer switched off in its pass.

    It keeps Rasa's class name on purpose: the tokenizer and the extractor find their model
    provider by that name (DefaultV1Recipe's `model_from`).
    """

    @staticmethod
    def load_model(spacy_model_name: Text) -> SpacyModel:
        model = spacy_utils.SpacyNLP.load_model(spacy_model_name)
        model.model.disable_pipe(RECOGNIZER)
        return model


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR], is_trainable=False, model_from="SpacyNLP"
)
class SpacyRecognizerExtractor(SpacyEntityExtractor):
    """SpacyEntityExtractor that runs only the recognizer, on the original (cased) text."""

    def process(self, messages: List[Message], model: SpacyModel) -> List[Message]:
        nlp = model.model
        recognizer = nlp.get_pipe(RECOGNIZER)
        for message in messages:
            doc = recognizer(nlp.make_doc(message.get(TEXT) or ""))
            found = self.add_extractor_name([entity_of(span) for span in doc.ents])
            kept = self.filter_irrelevant_entities(found, self._config["dimensions"])
            message.set(ENTITIES, message.get(ENTITIES, []) + kept, add_to_output=True)
        return messages


def entity_of(span: Any) -> Dict[Text, Any]:
    """One spaCy entity span in Rasa's entity format (as SpacyEntityExtractor writes it)."""
    return {"entity": span.label_, "value": span.text, "start": span.start_char,
            "confidence": None, "end": span.end_char}
