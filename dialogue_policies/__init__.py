"""Rasa dialogue policies of our own (config.yml's `policies:`), kept apart from the NLU
components in nlu_components/: they pick the next action, not the intent."""
