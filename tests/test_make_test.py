"""`make test` runs everything or fails: no silent skips, the fixtures in the repository."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PROBE = "tests/test_make_test.py::test_skip_probe"
SELF = Path(__file__).resolve()


def test_skip_probe() -> None:
    """Skips only when the test below asks it to; the probe of the no-skips rule."""
    if os.environ.get("PLANGATE_SKIP_PROBE") == "1":
        pytest.skip("the probe skips")


def _pytest(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    # The probe needs the suite's conftest, not its plugins (schemathesis, hypothesis, locust
    # and xdist take half of a bare run's start).
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", PROBE],
        cwd=ROOT,
        env={**os.environ, "PLANGATE_SKIP_PROBE": "1", "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
             **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_skip_fails_under_make_test() -> None:
    env = {"PLANGATE_TEST_NO_SKIPS": "1",
           "PLANGATE_TEST_POSTGRES_URL": "postgresql+psycopg://unused@127.0.0.1:1/x"}
    result = _pytest(env)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "skipped under PLANGATE_TEST_NO_SKIPS=1 (make test): Skipped: the probe skips" in (
        result.stdout
    )


def test_a_skip_is_a_skip_outside_make_test() -> None:
    result = _pytest({"PLANGATE_TEST_NO_SKIPS": ""})
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 skipped" in result.stdout


def test_make_test_refuses_to_run_without_postgresql() -> None:
    result = _pytest({"PLANGATE_TEST_NO_SKIPS": "1", "PLANGATE_TEST_POSTGRES_URL": ""})
    assert result.returncode != 0
    assert "needs PostgreSQL" in result.stderr


def test_with_postgres_require_fails_without_postgresql(tmp_path: Path) -> None:
    result = subprocess.run(
        [str(ROOT / "scripts" / "with-postgres"), "--require", "true"],
        env={**os.environ, "PLANGATE_POSTGRES_ROOT": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "PostgreSQL 15 is required" in result.stderr
    assert "SKIPPED" not in result.stderr


def test_makefile_lints_and_runs_the_suite_with_everything_required() -> None:
    makefile = (ROOT / "Makefile").read_text()
    assert "\ntest: $(STAMP)\n\t$(MAKE) --no-print-directory -j2 lint suite\n" in makefile
    assert "ensure-browser --require" in makefile
    assert "PLANGATE_TEST_NO_SKIPS=1 scripts/with-postgres --require" in makefile


def test_the_stripe_fixtures_are_in_the_repository() -> None:
    folder = ROOT / "tests" / "fixtures" / "stripe"
    assert (folder / "LICENSE").read_text().startswith("The MIT License")
    assert (folder / "checkout.session.json").exists()
    for path in [ROOT / "tests", ROOT / "src", ROOT / "docs", ROOT / "README.md"]:
        files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
        for file in files:
            if file.suffix in {".py", ".md", ".toml", ".html", ".json"} and file != SELF:
                text = file.read_text(encoding="utf-8", errors="replace")
                assert "/shared/" not in text and '"shared"' not in text, file
