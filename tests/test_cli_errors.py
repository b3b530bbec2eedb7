"""Mistakes a user makes before anything works are one line and exit 2, through the real
``plangate`` executable: a database never migrated or behind, a bad setting."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from fastapi.testclient import TestClient

from plangate.api.app import create_app
from plangate.settings import ConfigError, load_settings
from plangate.store.migrate import MIGRATIONS, upgrade

PLANGATE = str(Path(sys.executable).parent / "plangate")
EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "plangate.toml"


def run(tmp_path: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("PLANGATE_")}
    return subprocess.run(
        [PLANGATE, *args],
        cwd=tmp_path,
        env={**base, "PLANGATE_DATABASE_URL": f"sqlite:///{tmp_path}/p.db", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    return lines[0]


def previous_revision() -> str:
    script = ScriptDirectory(str(MIGRATIONS))
    head = script.get_revision(script.get_current_head())
    assert head is not None and isinstance(head.down_revision, str)
    return head.down_revision


@pytest.mark.parametrize("command", [["keys", "create"], ["serve", "--port", "9"]])
def test_an_unmigrated_database_says_run_migrate(tmp_path: Path, command: list[str]) -> None:
    line = one_line_error(run(tmp_path, *command))
    assert "no plangate schema: run `plangate migrate`" in line


@pytest.mark.parametrize(
    "command",
    [["keys", "list"], ["keys", "revoke", "1"], ["catalog", "show"], ["catalog", "diff", "x"],
     ["catalog", "push"], ["worker", "--once"], ["reconcile"]],
)
def test_every_command_on_the_database_checks_its_schema(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: list[str]
) -> None:
    from typer.testing import CliRunner

    from plangate.cli import app

    monkeypatch.setenv("PLANGATE_DATABASE_URL", f"sqlite:///{tmp_path}/p.db")
    monkeypatch.setenv("PLANGATE_GATEWAY", "stripe")
    monkeypatch.setenv("PLANGATE_STRIPE_API_KEY", "sk_test_x")
    if command[-1] == "x":
        command = [*command[:-1], str(EXAMPLE)]
    result = CliRunner().invoke(app, command)
    assert result.exit_code == 2, result.output
    assert "run `plangate migrate`" in result.output


def test_a_database_behind_says_run_migrate_and_migrate_fixes_it(tmp_path: Path) -> None:
    upgrade(f"sqlite:///{tmp_path}/p.db", previous_revision())
    line = one_line_error(run(tmp_path, "keys", "create"))
    assert "is behind this plangate" in line and "run `plangate migrate`" in line
    assert run(tmp_path, "migrate").returncode == 0
    created = run(tmp_path, "keys", "create")
    assert created.returncode == 0 and created.stdout.startswith("sk_")


def test_healthz_is_503_with_a_stable_code_until_migrated(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/h.db"
    with TestClient(create_app(load_settings(database_url=url))) as http:
        missing = http.get("/healthz")
        assert missing.status_code == 503
        assert missing.json()["error"]["code"] == "schema_missing"
        upgrade(url, previous_revision())
        assert http.get("/healthz").json()["error"]["code"] == "schema_behind"
        upgrade(url)
        assert http.get("/healthz").status_code == 200


BAD_SETTINGS = [
    ("PLANGATE_ALLOWED_ORIGINS", '["https://a.com"', "PLANGATE_ALLOWED_ORIGINS"),
    ("PLANGATE_ALLOWED_ORIGINS", "a.com", "is not an origin"),
    ("PLANGATE_DATABASE_URL", "postgres//nope", "is not a database URL"),
    ("PLANGATE_DATABASE_URL", "mysql://u@h/db", "'mysql' is not supported"),
    ("PLANGATE_GATEWAY", "strip", "PLANGATE_GATEWAY='strip'"),
    ("PLANGATE_WORKER_POLL_SECONDS", "soon", "PLANGATE_WORKER_POLL_SECONDS='soon'"),
    ("PLANGATE_WORKER_MAX_ATTEMPTS", "0", "PLANGATE_WORKER_MAX_ATTEMPTS"),
    ("PLANGATE_LOG_LEVEL", "loud", "PLANGATE_LOG_LEVEL"),
]


@pytest.mark.parametrize(("variable", "value", "says"), BAD_SETTINGS)
def test_a_bad_setting_is_one_line_naming_it(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, says: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as raised:
        load_settings()
    assert says in str(raised.value) and "\n" not in str(raised.value)


@pytest.mark.parametrize(("variable", "value", "says"), [BAD_SETTINGS[0], BAD_SETTINGS[4]])
def test_the_command_line_prints_a_bad_setting_as_one_line(
    tmp_path: Path, variable: str, value: str, says: str
) -> None:
    line = one_line_error(run(tmp_path, "keys", "list", **{variable: value}))
    assert line.startswith("error: configuration: ") and says in line


def test_lists_take_commas_or_json(monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_settings(allowed_origins="https://a.com").allowed_origins == ["https://a.com"]
    monkeypatch.setenv("PLANGATE_ALLOWED_ORIGINS", "https://a.com, http://localhost:3000/")
    assert load_settings().allowed_origins == ["https://a.com", "http://localhost:3000"]
    monkeypatch.setenv("PLANGATE_ALLOWED_ORIGINS", '["https://b.com"]')
    assert load_settings().allowed_origins == ["https://b.com"]
    with pytest.raises(ConfigError, match="PLANGATE_BASE_URL"):
        load_settings(base_url="localhost:8000")


@pytest.mark.parametrize("command", [["migrate"], ["dev", "--port", "0"]])
def test_an_unreachable_database_is_one_line(tmp_path: Path, command: list[str]) -> None:
    unreachable = "postgresql+psycopg://nobody@127.0.0.1:1/plangate"
    line = one_line_error(run(tmp_path, *command, PLANGATE_DATABASE_URL=unreachable))
    assert "Connection refused" in line or "connection failed" in line
