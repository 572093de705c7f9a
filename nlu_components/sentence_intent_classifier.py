"""A second opinion on the intent: logistic regression on the sentence vector, blended with DIET.

DIET learns from words, spelling and the sentence vector together and is very sure of itself;
a linear model on the sentence vector alone only knows what the message means. Measured on the
public sets' study split and the held-out file, the blend of the two beats either one: DIET on
its own sends more bank and travel questions to a store action or the clarifying question, the
linear model on its own misses store wording it has not seen (bench/nlu_eval.py).

The blend is a weighted geometric mean of the two rankings, so an intent both models find likely
wins and one that either finds unlikely loses. It runs after DIET and before the
FallbackClassifier, which then judges the blended confidence.
"""
from __future__ import annotations

import json
import logging
from typing import Any, Dict, List, Optional, Text, Type

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

logger = logging.getLogger(__name__)

_WEIGHTS_FILE = "weights.npz"
_INTENTS_FILE = "intents.json"
# Intents DIET leaves out of its ranking (it keeps the top ten) count as this unlikely.
_UNRANKED_CONFIDENCE = 1e-4


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True
)
class SentenceIntentClassifier(GraphComponent, IntentClassifier):
    """Logistic regression on the message's sentence vector, blended with the ranking before it."""

    @classmethod
    def required_components(cls) -> List[Type]:
        return [DenseFeaturizer]

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            # Inverse regularisation strength of the logistic regression.
            "C": 20.0,
            # Share of the earlier classifier's (DIET's) log-confidence in the blend.
            "previous_classifier_weight": 0.3,
            "ranking_length": 10,
        }

    @staticmethod
    def required_packages() -> List[Text]:
        return ["sklearn"]

    def __init__(
        self,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        intents: Optional[List[Text]] = None,
        coef: Optional[np.ndarray] = None,
        intercept: Optional[np.ndarray] = None,
    ) -> None:
        self.component_config = config
        self._model_storage = model_storage
        self._resource = resource
        self.intents = intents or []
        self._coef = coef
        self._intercept = intercept

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "SentenceIntentClassifier":
        return cls(config, model_storage, resource)

    @staticmethod
    def _sentence_vector(message: Message) -> Optional[np.ndarray]:
        _, sentence = message.get_dense_features(TEXT)
        return None if sentence is None else sentence.features.reshape(-1)

    def train(self, training_data: TrainingData) -> Resource:
        from sklearn.linear_model import LogisticRegression

        rows = [(self._sentence_vector(m), m.get(INTENT)) for m in training_data.intent_examples]
        rows = [(vector, intent) for vector, intent in rows if vector is not None]
        if len({intent for _, intent in rows}) < 2:
            logger.warning("SentenceIntentClassifier needs two intents with sentence vectors; "
                           "the earlier classifier's ranking is left as it is.")
            return self._resource
        model = LogisticRegression(C=self.component_config["C"], max_iter=5000)
        model.fit(np.stack([v for v, _ in rows]), [intent for _, intent in rows])
        self.intents = [str(intent) for intent in model.classes_]
        self._coef = model.coef_.astype(np.float32)
        self._intercept = model.intercept_.astype(np.float32)
        self.persist()
        return self._resource

    def persist(self) -> None:
        with self._model_storage.write_to(self._resource) as model_dir:
            np.savez(model_dir / _WEIGHTS_FILE, coef=self._coef, intercept=self._intercept)
            (model_dir / _INTENTS_FILE).write_text(json.dumps(self.intents))

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> "SentenceIntentClassifier":
        try:
            with model_storage.read_from(resource) as model_dir:
                weights = np.load(model_dir / _WEIGHTS_FILE)
                intents = json.loads((model_dir / _INTENTS_FILE).read_text())
                return cls(config, model_storage, resource, intents,
                           weights["coef"], weights["intercept"])
        except (ValueError, FileNotFoundError):
            logger.debug("SentenceIntentClassifier was not trained; it will change nothing.")
            return cls(config, model_storage, resource)

    def probabilities(self, vector: np.ndarray) -> np.ndarray:
        """The logistic regression's probability for each of `self.intents`."""
        logits = self._coef @ vector + self._intercept
        exp = np.exp(logits - logits.max())
        return exp / exp.sum()

    def blend(self, own: np.ndarray, previous_ranking: List[Dict[Text, Any]]) -> np.ndarray:
        """Weighted geometric mean of this model's and the earlier classifier's confidences."""
        weight = self.component_config["previous_classifier_weight"]
        previous = {r.get(INTENT_NAME_KEY): float(r.get("confidence") or 0.0)
                    for r in previous_ranking}
        if not previous:
            return own
        theirs = np.array([previous.get(intent, 0.0) for intent in self.intents])
        log_blend = (weight * np.log(theirs + _UNRANKED_CONFIDENCE)
                     + (1 - weight) * np.log(np.maximum(own, 1e-12)))
        blended = np.exp(log_blend - log_blend.max())
        return blended / blended.sum()

    def process(self, messages: List[Message]) -> List[Message]:
        if self._coef is None:
            return messages
        for message in messages:
            vector = self._sentence_vector(message)
            if vector is None or vector.shape[0] != self._coef.shape[1]:
                continue
            confidences = self.blend(self.probabilities(vector),
                                     message.get(INTENT_RANKING_KEY) or [])
            order = np.argsort(-confidences)[: self.component_config["ranking_length"]]
            ranking = [{INTENT_NAME_KEY: self.intents[i], "confidence": float(confidences[i])}
                       for i in order]
            message.set(INTENT, ranking[0], add_to_output=True)
            message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
        return messages
