"""Rasa custom actions: thin adapters from conversations to the store in bot/."""
