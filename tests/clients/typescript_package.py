"""The TypeScript client's package as the tests use it: installed from its lock file with
`npm ci` and compiled with `tsc`, each only when out of date, under a lock so that parallel
test workers do it once."""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "clients" / "typescript"
INSTALLED = PACKAGE / "node_modules" / ".plangate-installed"
BUILT = PACKAGE / "dist" / ".plangate-built"
SOURCES = ("src", "test", "bench")


def npm() -> str:
    found = shutil.which("npm")
    if found is None:
        raise RuntimeError("npm is not installed: the TypeScript client's tests need Node 20+")
    return found


def run(*args: str, env: dict[str, str] | None = None, timeout: float = 300) -> str:
    result = subprocess.run(
        args, cwd=PACKAGE, env={**os.environ, **(env or {})},
        capture_output=True, text=True, timeout=timeout,
    )
    if result.returncode != 0:
        raise AssertionError(
            f"{' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
        )
    return result.stdout


def _newest(paths: Iterator[Path]) -> float:
    return max((p.stat().st_mtime for p in paths), default=0.0)


def _stale(stamp: Path, newest_input: float) -> bool:
    return not stamp.exists() or stamp.stat().st_mtime < newest_input


@contextmanager
def _locked() -> Iterator[None]:
    with (PACKAGE / ".build.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def ensure_built() -> None:
    """`npm ci` when the lock file changed since the last install, `tsc` when a source did."""
    with _locked():
        lock_files = iter([PACKAGE / "package.json", PACKAGE / "package-lock.json"])
        if _stale(INSTALLED, _newest(lock_files)):
            run(npm(), "ci", "--no-audit", "--no-fund")
            INSTALLED.touch()
        sources = [p for d in SOURCES for p in (PACKAGE / d).rglob("*.ts*")]
        inputs = iter([*sources, PACKAGE / "tsconfig.json", INSTALLED])
        if _stale(BUILT, _newest(inputs)):
            run(npm(), "run", "build")
            BUILT.touch()
