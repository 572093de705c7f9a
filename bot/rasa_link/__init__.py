"""Where the store meets the Rasa server: the variables `rasa run` and endpoints.yml read
(`tracker_env`), the channels file Rasa reads with the secrets kept in `.env`
(`channel_credentials`), and the few calls made to the running server and its tracker store
(`rasa_api`). None of bot/ imports Rasa's code: these speak to it over HTTP, SQL and files.
"""
