"""Where ADAPT's packaged files are, read with :mod:`importlib.resources`.

The repository keeps ``models/`` and ``streamlit_app.py`` (with ``app_pages/``)
at the top level; ``pyproject.toml`` ships ``models/`` as ``adapt.models`` and
the app as the module ``streamlit_app`` beside the package ``app_pages``, so an
editable install and a wheel find them the same way, from any working directory.
"""

from __future__ import annotations

import importlib.util
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path


def model_file(name: str) -> Traversable:
    """A file of ``models/`` (a trained model or its card)."""
    return resources.files("adapt.models").joinpath(name)


def read_model_text(name: str) -> str:
    """The text of a file of ``models/``."""
    return model_file(name).read_text(encoding="utf-8")


def app_script() -> Path:
    """The app's entry point (``streamlit_app.py``), with ``app_pages/`` beside it."""
    spec = importlib.util.find_spec("streamlit_app")
    if spec is None or spec.origin is None:
        raise FileNotFoundError("the app (streamlit_app.py) is not installed with adapt")
    return Path(spec.origin)
