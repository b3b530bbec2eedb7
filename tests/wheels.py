"""Wheels of this tree installed into fresh virtual environments, as a user's pip would.

Dependencies and the build backend come from a wheelhouse kept between runs
(``PLANGATE_TEST_WHEELHOUSE``, default ``~/.cache/plangate-test-wheelhouse``), filled through
pip's configured index the first time, so that later runs build and install offline; the
wheels of this tree are always built fresh.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SDK = ROOT / "clients" / "python"
WHEELHOUSE = Path(
    os.environ.get("PLANGATE_TEST_WHEELHOUSE", Path.home() / ".cache" / "plangate-test-wheelhouse")
)


def sh(*args: str | Path, cwd: Path, env: dict[str, str] | None = None,
       timeout: float = 600) -> str:
    result = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True,
                            text=True, timeout=timeout)
    assert result.returncode == 0, f"{args}: {result.stdout}\n{result.stderr}"
    return result.stdout


def build_wheel(project: Path, dist: Path) -> Path:
    """The wheel of ``project`` (the server: ROOT, or the SDK: SDK), built into ``dist``."""
    WHEELHOUSE.mkdir(parents=True, exist_ok=True)
    build = [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", str(project),
             "-w", str(dist), "--no-index", "--find-links", str(WHEELHOUSE)]
    if subprocess.run(build, cwd=dist.parent, capture_output=True, timeout=600).returncode != 0:
        # The build backend (pyproject's build-system) joins the wheelhouse the first time.
        sh(sys.executable, "-m", "pip", "wheel", "-q", "-w", WHEELHOUSE, "setuptools>=77",
           "wheel", cwd=dist.parent)
        sh(*build, cwd=dist.parent)
    name = "plangate_sdk" if project == SDK else "plangate"
    (wheel,) = dist.glob(f"{name}-*.whl")
    return wheel


def venv_with(work: Path, *wheels: Path) -> Path:
    """The python of a fresh venv in ``work/venv`` holding ``wheels`` and their dependencies."""
    # A bare venv, filled by this interpreter's pip (`--python`): no second pip to install.
    # --no-compile: each command compiles only what it imports, on first use.
    sh(sys.executable, "-m", "venv", "--without-pip", work / "venv", cwd=work)
    python = work / "venv" / "bin" / "python"
    pip = [sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-compile"]
    # The wheels are named by path, so a wheelhouse copy of plangate never stands in for them.
    offline = [*pip, "--no-index", "--find-links", str(WHEELHOUSE), *map(str, wheels)]
    if subprocess.run(offline, cwd=work, capture_output=True, timeout=600).returncode != 0:
        # First run (or new dependencies): fetch them through pip's configured index.
        links = sorted({str(wheel.parent) for wheel in wheels})
        sh(sys.executable, "-m", "pip", "wheel", "-q", "-w", WHEELHOUSE,
           *[arg for link in links for arg in ("--find-links", link)], *wheels, cwd=work)
        sh(*offline, cwd=work)
    return python


def installed_distributions(python: Path) -> set[str]:
    """The distributions of ``python``'s environment, by normalized name."""
    listing = sh(sys.executable, "-m", "pip", "--python", python, "list", "--format=freeze",
                 cwd=python.parent)
    return {line.split("==")[0].lower().replace("_", "-") for line in listing.split()}
