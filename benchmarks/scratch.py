"""A scratch database for one benchmark run, shared by the scripts in this folder (run them as
``.venv/bin/python benchmarks/NAME.py``, which puts this folder on the import path)."""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, make_url, text


@contextmanager
def scratch_database(admin_url: str | None, *, name: str = "bench") -> Iterator[str]:
    """A fresh database URL: a temporary SQLite file when ``admin_url`` is None or SQLite, else a new
    PostgreSQL database on that server, dropped afterwards (connections and all)."""
    if admin_url is None or admin_url.startswith("sqlite"):
        with tempfile.TemporaryDirectory(prefix=f"{name}-") as directory:
            yield f"sqlite:///{Path(directory) / f'{name}.sqlite3'}"
        return
    database = f"reticulist_{name}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{database}"'))
    try:
        yield make_url(admin_url).set(database=database).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        admin.dispose()
