"""Alembic revisions, oldest first; Alembic loads them by file path, never by import."""
