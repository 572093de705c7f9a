from bot.rasa_link.tracker_env import tracker_env


def test_sqlite_and_postgres_urls_reach_rasa_whole():
    assert tracker_env("sqlite:////srv/tinsel.db") == {
        "TRACKER_DIALECT": "sqlite", "TRACKER_URL": "sqlite:////srv/tinsel.db"}
    pg = tracker_env("postgresql://shop:s3cret@db.internal:5433/tinsel")
    assert pg["TRACKER_DIALECT"] == "postgresql"
    assert pg["TRACKER_URL"] == "postgresql://shop:s3cret@db.internal:5433/tinsel"
