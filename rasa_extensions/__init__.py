"""Changes to Rasa's own behaviour that every Tinsel Rasa process needs, installed at import
time by the code Rasa always loads (channels/__init__.py) and by in-process agents
(tests/assistant.py). They import Rasa, so they live neither in `bot/` nor in `actions/`."""
