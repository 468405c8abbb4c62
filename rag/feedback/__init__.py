"""Citizens' feedback on answers: one interface, two stores.

Open ``base.py`` first (:class:`FeedbackStore`, :class:`NewFeedback`, :class:`Feedback`);
``sqlite_store.py`` keeps the rows in one SQLite file (the default, ``VRAAGBAAK_FEEDBACK_DB``);
``pg_store.py`` in PostgreSQL when ``VRAAGBAAK_DATABASE_URL`` is set, shared by every API replica.
"""

from __future__ import annotations

from rag.feedback.base import (CSV_COLUMNS, MAX_SQL_INT, RATINGS, Feedback, FeedbackStore, FeedbackStoreError,
                               NewFeedback)


def open_feedback_store(settings) -> FeedbackStore:
    """The configured store: PostgreSQL (pg_store.py) when ``VRAAGBAAK_DATABASE_URL`` is set, else the
    SQLite file at ``VRAAGBAAK_FEEDBACK_DB`` (sqlite_store.py). Touches no database until first used."""
    if getattr(settings, "database_url", ""):
        from rag.feedback.pg_store import PostgresFeedbackStore

        return PostgresFeedbackStore(settings.database_url)
    from rag.feedback.sqlite_store import SqliteFeedbackStore

    return SqliteFeedbackStore(settings.feedback_path)


__all__ = ["CSV_COLUMNS", "MAX_SQL_INT", "RATINGS", "Feedback", "FeedbackStore", "FeedbackStoreError", "NewFeedback",
           "open_feedback_store"]
