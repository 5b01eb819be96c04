"""SQL storage: SQLAlchemy models, Alembic migrations, engine helpers and the repository.

Nothing in here makes policy decisions; the repository persists what the engine decided.
"""

from __future__ import annotations
