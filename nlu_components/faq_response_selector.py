"""The FAQ answer is chosen only for messages that are FAQ questions (issue #16).

Rasa's ResponseSelector picks an answer for every message, though only a message whose intent is
its retrieval intent (`faq`) ever uses one: the selector runs after the intent classifiers and the
FallbackClassifier can only turn an intent into `nlu_fallback`, never into `faq`. Skipping the
others saves its forward pass (about 5 ms) on most turns and changes no answer. Skipped messages
still say which retrieval intents exist, with no selection, as Rasa's format allows.
"""
from __future__ import annotations

from typing import List

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.constants import RESPONSE_SELECTOR_PROPERTY_NAME, RESPONSE_SELECTOR_RETRIEVAL_INTENTS
from rasa.nlu.selectors.response_selector import ResponseSelector
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY
from rasa.shared.nlu.training_data.message import Message


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class FaqResponseSelector(ResponseSelector):
    """ResponseSelector that answers only messages classified as its retrieval intent."""

    def process(self, messages: List[Message]) -> List[Message]:
        if not self.retrieval_intent:
            return super().process(messages)
        asked = [m for m in messages if intent_of(m) == self.retrieval_intent]
        for message in messages:
            if intent_of(message) != self.retrieval_intent:
                message.set(
                    RESPONSE_SELECTOR_PROPERTY_NAME,
                    {RESPONSE_SELECTOR_RETRIEVAL_INTENTS: self.all_retrieval_intents},
                    add_to_output=True,
                )
        super().process(asked)
        return messages


def intent_of(message: Message) -> str | None:
    return (message.get(INTENT) or {}).get(INTENT_NAME_KEY)
