"""Rasa's check of an action server's answer, with the schema compiled once.

Rasa 3.6 calls jsonschema.validate(result, schema) for every custom action call, and
jsonschema.validate first checks the schema itself against its metaschema: measured with py-spy
on bench/profile_turn.py, that was about 30 % of a whole turn. The answer is checked against the
same schema (RemoteAction.action_response_format_spec) with the same errors; only the schema's
own check happens once.
"""
from __future__ import annotations

import functools
from typing import Any, Dict, Text

from jsonschema import ValidationError, validators
from rasa.core.actions.action import RemoteAction
from rasa.shared.constants import DOCS_BASE_URL


@functools.lru_cache(maxsize=1)
def response_validator() -> Any:
    schema = RemoteAction.action_response_format_spec()
    validator_class = validators.validator_for(schema)
    validator_class.check_schema(schema)
    return validator_class(schema)


def validate(result: Dict[Text, Any]) -> bool:
    try:
        response_validator().validate(result)
        return True
    except ValidationError as error:
        error.message += (
            ". Failed to validate Action server response from API, make sure your response from the "
            f"Action endpoint is valid. For more information about the format visit {DOCS_BASE_URL}/custom-actions"
        )
        raise
