"""`reticulist serve` and `reticulist demo` refuse to listen beyond this machine with the public
development secret, and hand forwarded headers to the app's own trusted-proxy rule."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from reticulist.cli import web_commands
from reticulist.cli.main import app
from reticulist.settings import DEVELOPMENT_SECRET

runner = CliRunner()


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[dict]:
    """uvicorn.run replaced by a recorder: the tests check what would be served, without serving."""
    import uvicorn

    calls: list[dict] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: calls.append(kw))
    monkeypatch.delenv("RETICULIST_SECRET_KEY", raising=False)
    monkeypatch.delenv("RETICULIST_ENVIRONMENT", raising=False)
    return calls


@pytest.mark.parametrize(
    "host", ["0.0.0.0", "::", "192.0.2.10", "reticulist.example", "localhost.evil.example"]
)
def test_serve_refuses_beyond_loopback_with_the_development_secret(
    host: str, served: list[dict], tmp_path: Path
) -> None:
    database = f"sqlite:///{tmp_path / 'never-opened.sqlite3'}"
    for secret in (None, DEVELOPMENT_SECRET, "change-me"):
        env = {"RETICULIST_SECRET_KEY": secret} if secret else {}
        result = runner.invoke(app, ["serve", "--host", host, "--database", database], env=env)
        said = " ".join(result.output.split())
        assert result.exit_code == 2, said
        assert f"Refusing to serve on {host}" in said
        assert "RETICULIST_SECRET_KEY is the public development secret" in said
        assert "or serve on 127.0.0.1 only" in said
    assert served == []


def test_demo_refuses_before_building_anything(served: list[dict], tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, ["demo", "--host", "0.0.0.0"])
    assert result.exit_code == 2 and "Refusing to serve on 0.0.0.0" in result.output
    assert list(tmp_path.iterdir()) == [] and served == []


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "[::1]", "localhost", "LOCALHOST"])
def test_serve_on_loopback_with_the_development_secret(
    host: str, served: list[dict], database_url: str
) -> None:
    result = runner.invoke(app, ["serve", "--host", host, "--database", database_url])
    assert result.exit_code == 0, result.output
    assert served == [{"host": host, "port": 8000, "log_level": "info", "proxy_headers": False}]


def test_serve_anywhere_with_a_real_secret(served: list[dict], database_url: str) -> None:
    result = runner.invoke(
        app,
        ["serve", "--host", "0.0.0.0", "--database", database_url],
        env={"RETICULIST_SECRET_KEY": "s" * 40},
    )
    assert result.exit_code == 0, result.output
    assert served[0]["host"] == "0.0.0.0" and served[0]["proxy_headers"] is False
    assert web_commands.is_loopback("127.255.0.1") and not web_commands.is_loopback("10.0.0.1")
