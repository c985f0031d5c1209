"""Importing the modules that register themselves in a core registry (activity, audiences)."""
from __future__ import annotations

import importlib


def import_providers(module_names: tuple[str, ...]) -> None:
    """Import each module; one whose feature is absent is skipped, one that fails to import is a real error."""
    for name in module_names:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as error:
            if not (error.name and name.startswith(error.name)):
                raise
