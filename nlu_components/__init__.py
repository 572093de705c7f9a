"""Tinsel's own Rasa NLU components."""
