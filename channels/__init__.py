"""Rasa input channels with the few changes Tinsel needs on top of Rasa 3.6's own connectors:
a configurable API base URL for Slack and Telegram, Telegram's webhook secret token, and
socket.io session persistence that works with the pinned python-socketio.

These import Rasa, so they live neither in `bot/` (no Rasa) nor in `actions/` (the action
server imports every module there). Rasa loads them by module path from the credentials file
`python -m bot rasa-credentials` writes; each keeps Rasa's channel name, so the webhook URLs
are Rasa's: /webhooks/slack/webhook, /webhooks/telegram/webhook, /socket.io.
"""
from bot.settings import get_settings
from rasa_extensions import conversation_states, message_admission, parsing_threads, resilient_actions

resilient_actions.install()  # every `rasa run` imports channels: an honest reply when the action server is down
message_admission.install(get_settings().messages_at_once)  # and serves messages nearly in arrival order
parsing_threads.install(get_settings().parsing_threads,  # with the NLU off the event loop
                        parser_process=bool(get_settings().parser_process))  # and in a process beside it
conversation_states.install()  # and each conversation's dialogue states built as it grows
