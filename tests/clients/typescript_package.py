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
SOURCES = ("src", "test", "bench")


def npm() -> str:
    found = shutil.which("npm")
    if found is None:
        raise RuntimeError("npm is not installed: the TypeScript client's tests need Node 20+")
    return found


def run(
    *args: str, env: dict[str, str] | None = None, timeout: float = 300, cwd: Path = PACKAGE
) -> str:
    result = subprocess.run(
        args, cwd=cwd, env={**os.environ, **(env or {})},
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
def _locked(package: Path) -> Iterator[None]:
    with (package / ".build.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def ensure_npm_built(
    package: Path, sources: list[Path], built: Path, env: dict[str, str] | None = None
) -> None:
    """In ``package``: `npm ci` when its lock file changed since the last install, `npm run
    build` when one of ``sources`` (files or folders) changed since the ``built`` stamp (a
    file inside what the build makes, so that deleting the output builds again)."""
    with _locked(package):
        installed = _install(package, env)
        files = [f for p in sources for f in ([p] if p.is_file() else p.rglob("*")) if f.is_file()]
        if _stale(built, _newest(iter([*files, installed]))):
            run(npm(), "run", "build", cwd=package, env=env, timeout=600)
            built.touch()


def _install(package: Path, env: dict[str, str] | None) -> Path:
    installed = package / "node_modules" / ".plangate-installed"
    lock_files = iter([package / "package.json", package / "package-lock.json"])
    if _stale(installed, _newest(lock_files)):
        run(npm(), "ci", "--no-audit", "--no-fund", cwd=package, env=env)
        installed.touch()
    return installed


def ensure_npm_installed(package: Path, env: dict[str, str] | None = None) -> None:
    """In ``package``: `npm ci` when its lock file changed since the last install."""
    with _locked(package):
        _install(package, env)


def ensure_built() -> None:
    """The client: `npm ci` when the lock file changed since the last install, `tsc` when a
    source did."""
    sources = [*(PACKAGE / d for d in SOURCES), PACKAGE / "tsconfig.json"]
    ensure_npm_built(PACKAGE, sources, PACKAGE / "dist" / ".plangate-built")
