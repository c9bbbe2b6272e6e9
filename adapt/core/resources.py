"""Where ADAPT's packaged files are, read with :mod:`importlib.resources`.

The repository keeps ``models/``, ``streamlit_app.py`` (with ``app_pages/``) and
``streamlit_server.py`` at the top level; ``pyproject.toml`` ships ``models/`` as
``adapt.models`` and the app as the modules ``streamlit_app`` and
``streamlit_server`` beside the package ``app_pages``, so an
editable install and a wheel find them the same way, from any working directory.
The app's Streamlit hardening (``.streamlit/config.toml``) ships as
``adapt/core/streamlit_config.toml``, an identical copy, because Streamlit reads
its config file only from the working directory.
"""

from __future__ import annotations

import importlib.util
import os
import tempfile
import tomllib
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path


def model_file(name: str) -> Traversable:
    """A file of ``models/`` (a trained model or its card)."""
    return resources.files("adapt.models").joinpath(name)


def read_model_text(name: str) -> str:
    """The text of a file of ``models/``."""
    return model_file(name).read_text(encoding="utf-8")


def page_script() -> Path:
    """The app's script (``streamlit_app.py``, with ``app_pages/`` beside it), as
    an ``AppTest`` runs it."""
    spec = importlib.util.find_spec("streamlit_app")
    if spec is None or spec.origin is None:
        raise FileNotFoundError("the app (streamlit_app.py) is not installed with adapt")
    return Path(spec.origin)


def app_script() -> Path:
    """What ``adapt app`` passes to ``streamlit run``: ``streamlit_server.py``, beside
    ``streamlit_app.py``, which serves that script with the sign-in routes and the
    security headers (:mod:`adapt.services.server`)."""
    server = page_script().with_name("streamlit_server.py")
    if not server.is_file():
        raise FileNotFoundError("the app (streamlit_server.py) is not installed with adapt")
    return server


def streamlit_config() -> dict[str, dict[str, object]]:
    """The app's Streamlit settings (the packaged copy of ``.streamlit/config.toml``)."""
    text = resources.files("adapt.core").joinpath("streamlit_config.toml").read_text("utf-8")
    return tomllib.loads(text)


def streamlit_flags() -> list[str]:
    """The app's Streamlit settings as ``streamlit run`` flags (``--section.key value``),
    so the app is hardened whatever the working directory.

    >>> flags = streamlit_flags()
    >>> flags[flags.index("--browser.gatherUsageStats") + 1]
    'false'
    >>> flags[flags.index("--client.showErrorDetails") + 1]
    'none'
    """
    flags: list[str] = []

    def add(prefix: str, options: dict[str, object]) -> None:
        for key, value in options.items():
            if isinstance(value, dict):
                add(f"{prefix}{key}.", value)
            elif isinstance(value, list):
                raise ValueError(f"{prefix}{key}: a list cannot be a streamlit run flag")
            else:
                text = str(value).lower() if isinstance(value, bool) else str(value)
                flags.extend([f"--{prefix}{key}", text])

    add("", streamlit_config())
    return flags


def evaluation_workdir() -> Path:
    """Where synthetic forces built for evaluation are cached between runs
    (the system's temporary folder, never a fixed machine path)."""
    return Path(tempfile.gettempdir()) / "adapt-evalwork"


def data_folder() -> Path:
    """ADAPT's folder for the user's data: ``$XDG_DATA_HOME/adapt``, else
    ``~/.local/share/adapt`` (the default database and the import folder live
    here). Not created here."""
    base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "adapt"
