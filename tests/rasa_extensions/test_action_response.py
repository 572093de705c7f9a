"""The action server's answers are still checked against Rasa's schema (rasa_extensions/
action_response.py compiles it once instead of on every call): a malformed answer is refused
with Rasa's own error, a well-formed one passes."""
from __future__ import annotations

import pytest
from jsonschema import ValidationError

from rasa_extensions import action_response
from rasa_extensions.resilient_actions import ResilientRemoteAction


def test_a_well_formed_answer_passes():
    answer = {"events": [{"event": "slot", "name": "order_number", "value": "104776"}],
              "responses": [{"response": "utter_greet"}]}
    assert action_response.validate(answer) is True


@pytest.mark.parametrize("answer", [{"events": "not a list"}, {"events": [{"no": "event key"}]},
                                    {"events": [{"event": 5}]}])
def test_a_malformed_answer_is_refused_with_rasas_message(answer):
    action = ResilientRemoteAction("action_show_order", None)
    with pytest.raises(ValidationError, match="Failed to validate Action server response"):
        action._validate_action_result(answer)
