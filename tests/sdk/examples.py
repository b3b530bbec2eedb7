"""Loads the example apps from examples/ as modules, configured for a test server."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def load_example(relative: str, module_name: str, *, api_key: str, base_url: str) -> ModuleType:
    """Imports ``examples/<relative>`` with ``PLANGATE_API_KEY``/``PLANGATE_URL`` set."""
    saved = {k: os.environ.get(k) for k in ("PLANGATE_API_KEY", "PLANGATE_URL")}
    os.environ.update(PLANGATE_API_KEY=api_key, PLANGATE_URL=base_url)
    try:
        spec = importlib.util.spec_from_file_location(module_name, EXAMPLES / relative)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        spec.loader.exec_module(module)
        return module
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def load_django_example(*, api_key: str, base_url: str) -> ModuleType:
    """The Django example, configuring Django's settings (once per process) and set up."""
    import django

    name = "plangate_example_django"
    module = sys.modules.get(name) or load_example(
        "django_app/app.py", name, api_key=api_key, base_url=base_url
    )
    django.setup()
    return module
