"""Imports as background jobs (adapt.services.imports) on both databases: an
upload's temporary folder is deleted when the import ends, whatever happens;
a folder that cannot be imported comes back as a message; an unexpected
failure is reported on the job and nothing is stored; every import is audited."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from adapt.db import app_store, connect, import_history
from adapt.services import imports, jobs
from tests.extracts import simple_extract

ANALYST = {"username": "analyst", "role": "analyst"}


@pytest.fixture
def app_db(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The app's database is ``db_url``; temporary folders go under ``tmp_path/tmp``."""
    monkeypatch.setenv("ADAPT_DATABASE_URL", db_url)
    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    yield db_url


def _upload_folders(tmp_path: Path) -> list[Path]:
    return sorted((tmp_path / "tmp").glob(f"{imports.UPLOAD_PREFIX}*"))


def _files(folder: Path) -> list[tuple[str, bytes]]:
    return [(p.name, p.read_bytes()) for p in sorted(folder.glob("*.csv"))]


def _imports(url: str) -> int:
    engine = connect(url)
    try:
        frame = import_history(engine)
        return frame["import_id"].nunique() if len(frame) else 0
    finally:
        engine.dispose()


def _audited(url: str) -> list[str]:
    engine = connect(url)
    try:
        frame = app_store.audit_frame(engine, username="analyst", actions=("import",))
        return frame["detail"].tolist()
    finally:
        engine.dispose()


def test_an_upload_is_imported_and_its_folder_deleted(app_db: str, tmp_path: Path) -> None:
    extract = simple_extract(tmp_path / "extract", range(1, 6))
    job_id = imports.submit_uploads(ANALYST, _files(extract), strict=False, resolve_after=False)
    job = jobs.runner().wait(job_id)
    assert job.state == jobs.DONE and job.owner == "analyst"
    outcome = job.result
    assert outcome.ok and outcome.import_id == 1, outcome.message
    assert int(outcome.files["loaded"].sum()) > 0
    assert _upload_folders(tmp_path) == []
    folder = import_history(connect(app_db))["folder"].iloc[0]
    assert folder.startswith("upload: ") and "incidents.csv" in folder  # not the temp path
    assert _audited(app_db) == ["import 1: 0 quarantined"]


def test_an_upload_that_cannot_be_imported_is_deleted_too(app_db: str, tmp_path: Path) -> None:
    extract = simple_extract(tmp_path / "extract", range(1, 4))
    only_involvements = [f for f in _files(extract) if f[0] == "involvements.csv"]
    job = jobs.runner().wait(
        imports.submit_uploads(ANALYST, only_involvements, strict=False, resolve_after=True)
    )
    assert job.state == jobs.DONE and not job.result.ok
    assert "cannot be imported" in job.result.message and job.result.identities is None
    assert _upload_folders(tmp_path) == []
    assert _imports(app_db) == 0
    assert _audited(app_db)[0].startswith("failed: The extract cannot be imported")


def test_a_refused_file_name_keeps_nothing(app_db: str, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="not an extract file name"):
        imports.submit_uploads(ANALYST, [("incidents.csv", b"x\n"), ("run.sh", b"")],
                               strict=False, resolve_after=False)  # fmt: skip
    assert _upload_folders(tmp_path) == []
    assert _audited(app_db)[0].startswith("failed: 'run.sh'")


def test_an_import_that_fails_deletes_the_upload_and_stores_nothing(
    app_db: str, tmp_path: Path
) -> None:
    """An unexpected error mid-import (here raised by the progress report,
    after the files were read): the job says so, the folder is gone, the
    load's transaction left nothing behind."""
    upload = Path(tempfile.mkdtemp(prefix=imports.UPLOAD_PREFIX))
    simple_extract(upload, range(1, 6))
    engine = connect(app_db)

    def progress(stage: str, done: int, total: int) -> None:
        if stage.startswith("writing"):  # inside the import's transaction
            raise OSError("disk gone")

    def work(report: jobs.Progress) -> imports.ImportOutcome:
        return imports.import_folder(engine, upload, user=ANALYST, progress=progress,
                                     remove_after=upload)  # fmt: skip

    job = jobs.runner().wait(jobs.runner().submit("import", work, database=app_db, label="x"))
    assert job.state == jobs.FAILED
    assert job.error == "The import failed; nothing was stored."
    assert not upload.exists()
    assert _imports(app_db) == 0
    assert _audited(app_db) == ["failed: OSError"]
    engine.dispose()


def test_a_server_folder_import_then_resolves(
    app_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(imports.IMPORT_ROOT_ENV, str(tmp_path))
    with pytest.raises(ValueError, match="can be imported"):
        imports.submit_folder(ANALYST, str(tmp_path / "missing"), strict=False, resolve_after=True)
    extract = simple_extract(tmp_path / "extract", range(1, 6))
    job = jobs.runner().wait(
        imports.submit_folder(ANALYST, f"  {extract}  ", strict=False, resolve_after=False)
    )
    assert job.result.ok and job.result.identities is None
    assert imports.import_job(None).id == job.id  # the latest import on this database
    assert extract.exists()  # a server folder is the force's own: never deleted
    # a path relative to the import folder works too
    again = jobs.runner().wait(
        imports.submit_folder(ANALYST, "extract", strict=False, resolve_after=False)
    )
    assert again.result.ok


def _refusal(typed: str) -> str:
    with pytest.raises(ValueError) as refused:
        imports.submit_folder(ANALYST, typed, strict=False, resolve_after=False)
    return str(refused.value).replace(repr(typed), "'…'")


def test_only_folders_inside_the_import_folder_are_imported(
    app_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """/etc, /proc/self, a ``..`` way out, a link out of the import folder and
    a file linked from elsewhere are refused with the one message a missing
    folder gets (it says nothing about what exists); nothing is imported and
    each refusal is audited."""
    root = tmp_path / "imports"
    outside = simple_extract(tmp_path / "outside", range(1, 4))
    root.mkdir()
    (root / "linked-out").symlink_to(outside, target_is_directory=True)
    sneaky = simple_extract(root / "sneaky", range(1, 4))
    (sneaky / "incidents.csv").unlink()
    (sneaky / "incidents.csv").symlink_to(outside / "incidents.csv")
    monkeypatch.setenv(imports.IMPORT_ROOT_ENV, str(root))
    missing = _refusal(str(root / "missing"))
    assert "can be imported" in missing and str(root) in missing
    for typed in ("/etc", "/proc/self", str(outside), "../outside", str(root / "linked-out"),
                  "linked-out", "sneaky", str(root), "/"):  # fmt: skip
        assert _refusal(typed) == missing, typed
    assert _imports(app_db) == 0
    refused = [d for d in _audited(app_db) if d.startswith("refused: ")]
    assert "refused: '/etc' is not an import folder" in refused and len(refused) == 10


def test_the_default_import_folder_is_in_adapts_data_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(imports.IMPORT_ROOT_ENV, raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    root = imports.import_root()
    assert root == tmp_path / "data" / "adapt" / "imports"
    assert root.is_dir() and (root.stat().st_mode & 0o077) == 0  # created, owner only
