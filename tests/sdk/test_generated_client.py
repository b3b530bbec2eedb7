"""The sync client is generated from the async one: the checked-in ``plangate_sdk/_sync`` is
exactly what ``clients/python/scripts/generate_sync.py`` makes from ``_async`` today."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "clients" / "python" / "scripts" / "generate_sync.py"
ASYNC_CLIENT = ROOT / "clients" / "python" / "src" / "plangate_sdk" / "_async" / "client.py"


def generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("generate_sync", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_checked_in_sync_client_is_a_fresh_generation() -> None:
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--check"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr + " (run: make generate)"
    gen = generator()
    assert set(gen.generated()) == {
        gen.TARGET / name for name in ("base.py", "billing.py", "client.py")
    }


def test_the_check_fails_on_a_hand_edit(tmp_path: Path) -> None:
    gen = generator()
    # The generator run on a copy of the package, with one generated file edited by hand.
    gen.SOURCE, gen.TARGET = tmp_path / "_async", tmp_path / "_sync"
    gen.SOURCE.mkdir()
    (gen.SOURCE / "client.py").write_text(ASYNC_CLIENT.read_text())
    assert gen.main([]) == 0 and gen.stale() == []
    generated = gen.TARGET / "client.py"
    generated.write_text(generated.read_text().replace("def consume(", "def consume_all("))
    assert gen.stale() == [generated]
    assert gen.main(["--check"]) == 1


def test_the_generated_client_is_synchronous() -> None:
    text = (generator().TARGET / "client.py").read_text()
    assert text.startswith("# Generated from plangate_sdk/_async/client.py")
    for asynchronous in ("async ", "await ", "AsyncClient", "asyncio", "aclose"):
        assert asynchronous not in text.split("\n", 2)[2], asynchronous
