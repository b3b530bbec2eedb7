from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from plangate.cli import app

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "plangate.toml"


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("PLANGATE_DATABASE_URL", f"sqlite:///{tmp_path}/cli.db")
    return CliRunner()


def test_bad_catalog_prints_every_problem_and_exits_2(runner: CliRunner, tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[products.pro]\ncustomer_type = "user"\nline = "nope"\nfeatures = ["x"]\n')
    result = runner.invoke(app, ["catalog", "validate", str(bad)])
    assert result.exit_code == 2
    assert "unknown_line" in result.output and "unknown_feature" in result.output
    assert (
        runner.invoke(app, ["catalog", "validate", str(tmp_path / "missing.toml")]).exit_code == 2
    )


def test_migrate_apply_twice_keys(runner: CliRunner, tmp_path: Path) -> None:
    assert runner.invoke(app, ["migrate"]).exit_code == 0
    assert runner.invoke(app, ["catalog", "validate", str(EXAMPLE)]).exit_code == 0
    first = runner.invoke(app, ["catalog", "apply", str(EXAMPLE)])
    assert first.exit_code == 0 and "applied new catalog version" in first.output
    second = runner.invoke(app, ["catalog", "apply", str(EXAMPLE)])
    assert "already active" in second.output
    assert "no changes" in runner.invoke(app, ["catalog", "diff", str(EXAMPLE)]).output
    key = runner.invoke(app, ["keys", "create", "--name", "ci"])
    assert key.exit_code == 0 and key.stdout.strip().startswith("sk_")
    assert "ci" in runner.invoke(app, ["keys", "list"]).output


def test_catalog_validate_reads_the_json_that_catalog_show_prints(
    runner: CliRunner, tmp_path: Path
) -> None:
    shown = runner.invoke(app, ["catalog", "show", str(EXAMPLE)])
    assert shown.exit_code == 0
    for name in ("catalog.json", "catalog.txt"):
        (tmp_path / name).write_text(shown.stdout)
        result = runner.invoke(app, ["catalog", "validate", str(tmp_path / name)])
        assert result.exit_code == 0, result.output
        assert "valid" in result.output
    (tmp_path / "broken.json").write_text('{"products": ')
    broken = runner.invoke(app, ["catalog", "validate", str(tmp_path / "broken.json")])
    assert broken.exit_code == 2 and "is not valid JSON" in broken.output


def test_the_packaged_example_catalog_is_the_visible_one() -> None:
    from importlib import resources

    packaged = resources.files("plangate").joinpath("example_catalog.toml").read_text("utf-8")
    assert packaged == EXAMPLE.read_text(encoding="utf-8")


def test_the_commands_the_example_catalog_names_exist(runner: CliRunner) -> None:
    import re
    import shlex

    named = re.findall(r"`plangate ([^`]+)`", EXAMPLE.read_text(encoding="utf-8"))
    assert named
    for command in named:
        args = [str(EXAMPLE) if a == "examples/plangate.toml" else a for a in shlex.split(command)]
        result = runner.invoke(app, args)
        assert result.exit_code == 0, (command, result.output)
