"""Storage: engine, declarative base, sessions and migrations."""

from reticulist.db.base import Base
from reticulist.db.engine import make_engine, make_session_factory

__all__ = ["Base", "make_engine", "make_session_factory"]
