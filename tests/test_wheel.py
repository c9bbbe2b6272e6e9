"""ADAPT installed for real: the wheel is built from the checkout, installed (not
editable) into a new virtual environment, and the commands and the app run from a
folder that is not the checkout.

Offline: the wheel is built with ``--no-build-isolation`` (setuptools and wheel
come with the test extra) and installed with ``--no-deps --no-index``. The new
environment sees this environment's third-party packages through a ``.pth`` line
naming its site-packages; a path line does not run that folder's own ``.pth``
files, so the editable install's finder stays out and ``adapt`` is the wheel's.
The wheel is built from a copy of the sources so that no ``build/`` folder left in
the checkout (by an older build or a concurrent run) can slip stale files in.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import textwrap
import time
import urllib.request
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from adapt.core.resources import streamlit_flags

ROOT = Path(__file__).resolve().parents[1]
SOURCE_DIRS = ("adapt", "models", "app_pages")  # models/ ships as adapt/models/
SOURCE_FILES = (
    "pyproject.toml",
    "README.md",
    "MANIFEST.in",
    "streamlit_app.py",
    "streamlit_server.py",
)
STREAMLIT_CONFIG = ROOT / ".streamlit" / "config.toml"
PACKAGED_CONFIG = ROOT / "adapt" / "core" / "streamlit_config.toml"


def test_packaged_streamlit_config_is_the_checkouts() -> None:
    """`streamlit run streamlit_app.py` in the checkout and `adapt app` anywhere
    run with the same hardening."""
    assert PACKAGED_CONFIG.read_bytes() == STREAMLIT_CONFIG.read_bytes(), (
        "copy .streamlit/config.toml to adapt/core/streamlit_config.toml"
    )
    flags = streamlit_flags()
    settings = dict(zip(flags[::2], flags[1::2], strict=True))
    assert settings["--browser.gatherUsageStats"] == "false"
    assert settings["--client.showErrorDetails"] == "none"
    assert settings["--server.enableXsrfProtection"] == "true"
    assert settings["--server.headless"] == "true"
    assert int(settings["--server.maxUploadSize"]) > 0


def _sources() -> list[str]:
    """The files the wheel is built from: in a git checkout the tracked or new (not
    ignored) ones still present, else every file but compiled ones."""
    if (ROOT / ".git").exists():
        listed = subprocess.run(
            ["git", "ls-files", "--cached", "--others", "--exclude-standard", "--", *SOURCE_DIRS],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.splitlines()
    else:
        listed = [
            p.relative_to(ROOT).as_posix()
            for d in SOURCE_DIRS
            for p in (ROOT / d).rglob("*")
            if "__pycache__" not in p.parts and p.suffix != ".pyc"
        ]
    files = [f for f in listed if (ROOT / f).is_file()]
    return files + [f for f in SOURCE_FILES if (ROOT / f).is_file()]


def _in_wheel(source: str) -> str:
    return "adapt/" + source if source.startswith("models/") else source


@dataclass(frozen=True)
class Installed:
    wheel: Path
    sources: list[str]
    venv: Path
    site: Path  # the new environment's site-packages
    elsewhere: Path  # a working folder that is not the checkout
    env: dict[str, str]

    def adapt(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [str(self.venv / "bin" / "adapt"), *args],
            cwd=self.elsewhere,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        assert result.returncode == 0, f"adapt {' '.join(args)}:\n{result.stdout}{result.stderr}"
        return result

    def python(self, code: str, env: dict[str, str] | None = None, timeout: float = 120) -> str:
        result = subprocess.run(
            [str(self.venv / "bin" / "python"), "-c", textwrap.dedent(code)],
            cwd=self.elsewhere,
            env=self.env | (env or {}),
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    if sys.platform != "linux":
        pytest.skip("the installed-environment test runs on Linux (as CI does)")
    tmp = tmp_path_factory.mktemp("wheel")
    sources = _sources()
    src = tmp / "src"
    for rel in sources:
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, src / rel)
    dist = tmp / "dist"
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input"]
    build = [*pip, "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-w", str(dist)]
    subprocess.run([*build, str(src)], check=True, capture_output=True)
    (wheel,) = dist.glob("adapt-*.whl")

    venv = tmp / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    )
    install = [*pip, "--python", str(python), "install", "--no-deps", "--no-index", str(wheel)]
    subprocess.run(install, check=True, capture_output=True)
    # The third-party dependencies: this environment's site-packages, after the
    # new environment's own (a path line: that folder's .pth files do not run).
    deps = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (site / "zz_adapt_test_dependencies.pth").write_text("\n".join(sorted(deps)) + "\n")

    elsewhere = tmp / "elsewhere"
    elsewhere.mkdir()
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "VIRTUAL_ENV"}
        and not k.startswith("ADAPT_")
    }
    env |= {"XDG_DATA_HOME": str(tmp / "data"), "PYTHONDONTWRITEBYTECODE": "1"}
    return Installed(wheel, sources, venv, site, elsewhere, env)


def test_the_wheel_carries_every_source_and_data_file(installed: Installed) -> None:
    with zipfile.ZipFile(installed.wheel) as wheel:
        names = set(wheel.namelist())
    expected = {_in_wheel(f) for f in installed.sources if f.split("/")[0] in SOURCE_DIRS}
    expected |= {"streamlit_app.py", "streamlit_server.py"}
    assert expected - names == set()
    for data in (
        "adapt/db/migrations/env.py",
        "adapt/db/migrations/script.py.mako",
        "adapt/core/settings/default.json",
        "adapt/core/streamlit_config.toml",
        "adapt/models/identity-splink.json",
        "adapt/models/harm-model.json",
        "adapt/models/identity-model-card.md",
        "app_pages/cohort.py",
    ):
        assert data in names
    assert any(n.startswith("adapt/db/migrations/versions/0001") for n in names)
    assert any(n.startswith("adapt/core/harm_tables/") for n in names)


def test_adapt_is_imported_from_the_installed_wheel(installed: Installed) -> None:
    out = installed.python(
        """
        import importlib.util, json
        import adapt, adapt.models, app_pages
        from adapt.core import resources
        print(json.dumps({
            "adapt": adapt.__file__,
            "models": adapt.models.__file__,
            "app_pages": app_pages.__file__,
            "streamlit_app": importlib.util.find_spec("streamlit_app").origin,
            "app_script": str(resources.app_script()),
            "page_script": str(resources.page_script()),
            "identity_model": str(resources.model_file("identity-splink.json")),
            "card": len(resources.read_model_text("harm-model-card.md")),
            "flags": resources.streamlit_flags(),
        }))
        """
    )
    found = json.loads(out)
    site = installed.site.resolve()
    keys = ("adapt", "models", "app_pages", "streamlit_app", "app_script", "page_script",
            "identity_model")  # fmt: skip
    for key in keys:
        assert Path(found[key]).resolve().is_relative_to(site), (key, found[key])
    assert Path(found["app_script"]).resolve() == site / "streamlit_server.py"
    assert Path(found["page_script"]).resolve() == site / "streamlit_app.py"
    assert found["card"] > 0
    assert found["flags"] == streamlit_flags()


@pytest.fixture(scope="module")
def demo_url(installed: Installed) -> str:
    """`adapt demo` from another folder, on an SQLite file there."""
    url = f"sqlite:///{installed.elsewhere / 'demo.sqlite'}"
    out = installed.adapt("demo", "--db", url).stdout
    assert "score run 1" in out and "in the cohort" in out, out
    return url


def test_demo_run_and_export_from_another_folder(installed: Installed, demo_url: str) -> None:
    here = installed.elsewhere
    installed.adapt(
        "export", "cohort", "--purpose=test", "--out", "demo-cohort.csv", "--db", demo_url
    )
    installed.adapt(
        "export", "quarantine", "--purpose=test", "--out", "quarantine.xlsx", "--db", demo_url
    )
    assert len((here / "demo-cohort.csv").read_text(encoding="utf-8").splitlines()) > 1
    assert (here / "quarantine.xlsx").stat().st_size > 0

    url = f"sqlite:///{here / 'run.sqlite'}"
    installed.adapt("generate", "--incidents", "300", "--seed", "7", "extract")
    out = installed.adapt("run", "extract", "--db", url).stdout
    assert "identity run 1" in out and "score run 1" in out, out
    installed.adapt("export", "cohort", "--purpose=test", "--out", "cohort.xlsx", "--db", url)
    assert (here / "cohort.xlsx").stat().st_size > 0


def test_the_installed_app_signs_in_and_draws_every_page(
    installed: Installed, demo_url: str
) -> None:
    """The installed streamlit_app.py finds its installed pages (AppTest, no server)."""
    out = installed.python(
        """
        import os
        from streamlit.testing.v1 import AppTest
        from adapt.core.access import PAGES
        from adapt.core.resources import page_script
        from adapt.db import accounts, connect
        from adapt.services.session import USER_KEY

        accounts.ensure_demo_users(connect(os.environ["ADAPT_DATABASE_URL"]))
        at = AppTest.from_file(str(page_script()), default_timeout=60)
        at.session_state[USER_KEY] = "admin"  # the browser signs in through /auth/sign-in
        at.run()
        assert not at.exception, at.exception
        for page in PAGES:
            at.switch_page(f"app_pages/{page}.py")
            at.run()
            assert not at.exception, (page, at.exception)
            print(page, [t.value for t in at.title])
        """,
        env={"ADAPT_DATABASE_URL": demo_url},
    )
    titles = dict(line.split(" ", 1) for line in out.splitlines())
    assert set(titles) == {
        "cohort", "caseload", "person", "victim", "marac", "tuning", "data", "audit", "admin"
    }  # fmt: skip
    assert "Cohort" in titles["cohort"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _session_processes(sid: int) -> Iterator[tuple[int, list[str]]]:
    """(pid, command line) of every live process in session ``sid`` (Linux /proc)."""
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            stat = (proc / "stat").read_text()
            fields = stat[stat.rindex(")") + 2 :].split()
            if int(fields[3]) == sid and fields[0] != "Z":  # state, ppid, pgrp, session
                yield int(proc.name), (proc / "cmdline").read_bytes().decode().split("\0")[:-1]
        except (OSError, ValueError):
            continue


def _stop_session(server: subprocess.Popen[bytes]) -> None:
    """Stop `adapt app` and the server it started (its own session and process group)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(server.pid, signal.SIGTERM)
    deadline = time.monotonic() + 15
    while any(_session_processes(server.pid)) and time.monotonic() < deadline:
        server.poll()  # reap the command itself once it has gone
        time.sleep(0.1)
    if any(_session_processes(server.pid)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGKILL)
    server.wait()


def test_adapt_app_serves_the_installed_app_hardened(installed: Installed) -> None:
    """`adapt app` from another folder serves the installed streamlit_app.py with
    the packaged hardening as flags, and a relative SQLite URL names the same file
    for the app as for the command (which creates and migrates it)."""
    port = _free_port()
    relative = "sqlite:///app.sqlite"
    log = installed.elsewhere / "app.log"
    with log.open("w") as out:
        server = subprocess.Popen(
            [str(installed.venv / "bin" / "adapt"), "app", "--port", str(port), "--db", relative],
            cwd=installed.elsewhere,
            env=installed.env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(
                    f"http://127.0.0.1:{port}/_stcore/health", timeout=2
                ) as r:
                    assert r.read() == b"ok"
                    break
            except OSError:
                assert server.poll() is None, log.read_text()
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.25)
        (pid, command), *_ = [
            (pid, cmd) for pid, cmd in _session_processes(server.pid) if "streamlit" in cmd
        ]
        cwd = Path(f"/proc/{pid}/cwd").resolve()
        environ = Path(f"/proc/{pid}/environ").read_bytes().decode().split("\0")
    finally:
        _stop_session(server)
    script = command.index("run") + 1
    assert Path(command[script]).resolve() == installed.site.resolve() / "streamlit_server.py"
    given = dict(zip(command[script + 1 :: 2], command[script + 2 :: 2], strict=True))
    flags = streamlit_flags()
    for flag, value in zip(flags[::2], flags[1::2], strict=True):
        assert given.get(flag) == value, (flag, command)
    assert given["--server.port"] == str(port)
    url = next(v.split("=", 1)[1] for v in environ if v.startswith("ADAPT_DATABASE_URL="))
    assert url.startswith("sqlite:///")
    database = installed.elsewhere.resolve() / "app.sqlite"
    assert database.is_file()  # made by `adapt app` before it starts the server
    assert (cwd / url.removeprefix("sqlite:///")).resolve() == database
