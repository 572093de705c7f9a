"""Rasa's TEDPolicy, its predictions remembered by the dialogue state they were made for.

TED sees a conversation only as its last `max_history` states (intent, entities present, the
slots that influence the conversation, the previous action, the active form) and, once trained,
always predicts the same for the same states. Rasa asks it about 2.5 times a turn and shoppers
walk the same few paths (greet, track an order, ask about returns), so most questions have been
asked before: the answer is looked up instead of run through TensorFlow again.

The class keeps Rasa's name (TEDPolicy), so anything in Rasa that looks for TED by name (the
prediction's policy name, `rasa test`) sees it unchanged. A TED trained on end-to-end text
(stories with the user's words) is never cached: its input is the text, not a state.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any, Dict, List, Optional, Text, Tuple

from rasa.core.featurizers.precomputation import MessageContainerForCoreFeaturization
from rasa.core.policies import ted_policy
from rasa.core.policies.policy import PolicyPrediction
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import TEXT

# Distinct dialogue states remembered per process; a shopper path has a few dozen.
REMEMBERED_STATES = 4096

StateKey = Tuple[Any, ...]


def state_key(states: List[Dict[Text, Dict[Text, Any]]]) -> StateKey:
    """The states as a hashable value: every value Rasa puts in a state is a str or a tuple."""
    return tuple(
        tuple(sorted((part, tuple(sorted(sub_state.items()))) for part, sub_state in state.items()))
        for state in states
    )


def fresh_copy(prediction: PolicyPrediction) -> PolicyPrediction:
    """A prediction of its own for each caller: Rasa adds to a prediction's event lists."""
    return PolicyPrediction(
        list(prediction.probabilities), prediction.policy_name, prediction.policy_priority,
        list(prediction.events), list(prediction.optional_events), prediction.is_end_to_end_prediction,
        prediction.is_no_user_prediction, dict(prediction.diagnostic_data), prediction.hide_rule_turn,
        dict(prediction.action_metadata or {}) or None,
    )


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.POLICY_WITH_END_TO_END_SUPPORT, is_trainable=True)
class TEDPolicy(ted_policy.TEDPolicy):
    """TEDPolicy with its predictions remembered per dialogue state (see the module)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.remembered: "OrderedDict[StateKey, PolicyPrediction]" = OrderedDict()
        self._remembering = threading.Lock()  # Rasa predicts on one thread, but need not

    def predict_action_probabilities(
        self,
        tracker: DialogueStateTracker,
        domain: Domain,
        rule_only_data: Optional[Dict[Text, Any]] = None,
        precomputations: Optional[MessageContainerForCoreFeaturization] = None,
        **kwargs: Any,
    ) -> PolicyPrediction:
        if self.model is None or TEXT in self.fake_features:
            return super().predict_action_probabilities(tracker, domain, rule_only_data, precomputations, **kwargs)
        key = self.dialogue_state(tracker, domain, rule_only_data)
        prediction = self.recall(key)
        if prediction is None:
            prediction = super().predict_action_probabilities(tracker, domain, rule_only_data, precomputations, **kwargs)
            self.remember(key, prediction)
        return fresh_copy(prediction)

    def dialogue_state(self, tracker: DialogueStateTracker, domain: Domain,
                       rule_only_data: Optional[Dict[Text, Any]]) -> StateKey:
        """What TED's model sees of the tracker: the states TEDPolicy featurizes for prediction."""
        [states] = self.featurizer.prediction_states(
            [tracker], domain, use_text_for_last_user_input=self.only_e2e, ignore_rule_only_turns=True,
            rule_only_data=rule_only_data, ignore_action_unlikely_intent=True,
        )
        return state_key(states)

    def recall(self, key: StateKey) -> Optional[PolicyPrediction]:
        with self._remembering:
            prediction = self.remembered.get(key)
            if prediction is not None:
                self.remembered.move_to_end(key)
            return prediction

    def remember(self, key: StateKey, prediction: PolicyPrediction) -> None:
        """Kept as a copy of its own; the least recently used state goes when full."""
        with self._remembering:
            self.remembered[key] = fresh_copy(prediction)
            if len(self.remembered) > REMEMBERED_STATES:
                self.remembered.popitem(last=False)
