"""Wheels of this tree installed into fresh virtual environments, as a user's pip would.

Dependencies and the build backend come from a wheelhouse kept between runs
(``PLANGATE_TEST_WHEELHOUSE``, default ``~/.cache/plangate-test-wheelhouse``), filled through
pip's configured index the first time, so that later runs build and install offline; the
wheels of this tree are always built fresh.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import tomllib
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


def build_backend() -> Path:
    """A directory holding the build backend of the projects' ``build-system`` (setuptools,
    wheel), installed once per requirement set and kept in the wheelhouse: building with it
    on ``PYTHONPATH`` (``--no-build-isolation``) skips pip's fresh build environment per
    project per run, most of a wheel's build time."""
    requires = sorted(
        {r for p in (ROOT, SDK) for r in tomllib.loads((p / "pyproject.toml").read_text())
         ["build-system"]["requires"]}
    )
    key = hashlib.sha256(" ".join(requires).encode()).hexdigest()[:12]
    target = WHEELHOUSE / f"build-backend-{key}"
    if target.is_dir():
        return target
    WHEELHOUSE.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=WHEELHOUSE, prefix=".build-backend-"))
    install = [sys.executable, "-m", "pip", "install", "-q", "--target", str(staging),
               "--no-index", "--find-links", str(WHEELHOUSE), *requires]
    if subprocess.run(install, capture_output=True, timeout=600).returncode != 0:
        # The first time, the backend joins the wheelhouse through pip's configured index.
        sh(sys.executable, "-m", "pip", "wheel", "-q", "-w", WHEELHOUSE, *requires, cwd=staging)
        sh(*install, cwd=staging)
    try:
        staging.rename(target)  # complete or absent: another worker may have won the race
    except OSError:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def build_wheels(dist: Path, *projects: Path) -> list[Path]:
    """The wheels of ``projects`` (the server: ROOT, the SDK: SDK), built into ``dist``."""
    env = {**os.environ, "PYTHONPATH": str(build_backend())}
    # setuptools builds in the source tree (build/, *.egg-info): the SDK, which two tests may
    # build at once, is built from a copy of it.
    sources = [
        project if project == ROOT else shutil.copytree(
            project, dist.parent / f"{project.name}-source",
            ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"),
        )
        for project in projects
    ]
    sh(sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
       "-w", dist, *sources, cwd=dist.parent, env=env)
    names = {ROOT: "plangate", SDK: "plangate_sdk"}
    return [next(dist.glob(f"{names[project]}-*.whl")) for project in projects]


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
        # First run (or new dependencies): fetch them through pip's configured index into a
        # folder of this run, and keep only the dependencies: a wheel of this tree left in the
        # wheelhouse would lend its (older) metadata to the next fetch of the same version.
        links = sorted({str(wheel.parent) for wheel in wheels})
        fetched = work / "fetched"
        sh(sys.executable, "-m", "pip", "wheel", "-q", "-w", fetched,
           *[arg for link in links for arg in ("--find-links", link)], *wheels, cwd=work)
        ours = {wheel.name for wheel in wheels}
        for dependency in fetched.glob("*.whl"):
            if dependency.name not in ours:
                shutil.copy2(dependency, WHEELHOUSE / dependency.name)
        sh(*offline, cwd=work)
    return python


def installed_distributions(python: Path) -> set[str]:
    """The distributions of ``python``'s environment, by normalized name."""
    listing = sh(sys.executable, "-m", "pip", "--python", python, "list", "--format=freeze",
                 cwd=python.parent)
    return {line.split("==")[0].lower().replace("_", "-") for line in listing.split()}
