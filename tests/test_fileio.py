"""Atomic writes of many files (``consult generate``): all in place at the end, none on error."""

from __future__ import annotations

from pathlib import Path

import pytest

from consult.fileio import STAGING_PREFIX, staged_writes


def test_staged_writes_replace_targets_and_leave_no_staging_folder(tmp_path: Path) -> None:
    (tmp_path / "KZ").mkdir()
    (tmp_path / "KZ" / "KZ-MFA.xlsx").write_bytes(b"old")
    with staged_writes(tmp_path) as staging:
        staging.write(tmp_path / "KZ" / "KZ-MFA.xlsx", b"new")
        staging.write(tmp_path / "KG" / "KG-MFA.xlsx", b"kg")
        assert (tmp_path / "KZ" / "KZ-MFA.xlsx").read_bytes() == b"old"  # nothing visible before the end
        assert not (tmp_path / "KG").exists()
    assert (tmp_path / "KZ" / "KZ-MFA.xlsx").read_bytes() == b"new"
    assert (tmp_path / "KG" / "KG-MFA.xlsx").read_bytes() == b"kg"
    assert not list(tmp_path.glob(f"{STAGING_PREFIX}*"))


def test_staged_writes_on_error_touch_nothing(tmp_path: Path) -> None:
    (tmp_path / "KZ").mkdir()
    (tmp_path / "KZ" / "KZ-MFA.xlsx").write_bytes(b"old")
    with pytest.raises(RuntimeError), staged_writes(tmp_path) as staging:
        staging.write(tmp_path / "KZ" / "KZ-MFA.xlsx", b"new")
        raise RuntimeError("a workbook failed")
    assert (tmp_path / "KZ" / "KZ-MFA.xlsx").read_bytes() == b"old"
    assert not list(tmp_path.glob(f"{STAGING_PREFIX}*"))


def test_staged_writes_refuse_a_target_outside_the_root(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="outside"), staged_writes(tmp_path / "out") as staging:
        staging.write(tmp_path / "elsewhere.xlsx", b"x")


# --- leftovers of killed commands, and file modes (issues 25 and 21) ---------------------------


def _dead_pid() -> int:
    """The pid of a process that has ended."""
    import subprocess
    import sys

    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_a_later_write_removes_the_temporary_files_of_a_killed_command_and_no_others(tmp_path: Path) -> None:
    import os
    import time

    from consult import fileio

    host = fileio._host()
    dead = tmp_path / f"{fileio.TMP_PREFIX}{host}.{_dead_pid()}.ab12cd34.KZ-synthesis.png"
    dead.write_bytes(b"\x89PNG truncated")
    dead_staging = tmp_path / f"{fileio.STAGING_PREFIX}{host}.{_dead_pid()}.ab12cd35"
    (dead_staging / "sub").mkdir(parents=True)
    (dead_staging / "sub" / "KZ-synthesis.docx").write_bytes(b"PK partial")
    running = tmp_path / f"{fileio.TMP_PREFIX}{host}.{os.getppid()}.ab12cd36.KG-synthesis.md"  # a live process
    running.write_text("in progress")
    elsewhere = tmp_path / f"{fileio.TMP_PREFIX}other-pc.{_dead_pid()}.ab12cd37.TJ-synthesis.md"
    elsewhere.write_text("another computer's, recent")
    old = tmp_path / f"{fileio.TMP_PREFIX}other-pc.4242.ab12cd38.TJ-synthesis.md"
    old.write_text("another computer's, days old")
    days_ago = time.time() - 3 * 24 * 3600
    os.utime(old, (days_ago, days_ago))
    theirs = tmp_path / ".KZ-synthesis.md.x1y2.tmp"  # not ours: never touched
    theirs.write_text("someone else's")
    fileio.write_atomic(tmp_path / "KZ-synthesis.md", "new")
    left = sorted(p.name for p in tmp_path.iterdir())
    assert left == sorted(["KZ-synthesis.md", running.name, elsewhere.name, theirs.name])


def test_staged_writes_remove_the_staging_folder_of_a_killed_run(tmp_path: Path) -> None:
    from consult import fileio

    stale = tmp_path / f"{fileio.STAGING_PREFIX}{fileio._host()}.{_dead_pid()}.00000000"
    stale.mkdir()
    (stale / "KZ-synthesis.png").write_bytes(b"half")
    with staged_writes(tmp_path) as staging:
        staging.write(tmp_path / "KZ-synthesis.md", "new")
    assert [p.name for p in tmp_path.iterdir()] == ["KZ-synthesis.md"]


@pytest.mark.parametrize("mask", [0o022, 0o002, 0o077])
def test_written_files_respect_the_umask_and_personal_data_stays_private(tmp_path: Path, mask: int) -> None:
    import os
    import stat

    from consult.fileio import save_atomic, write_atomic

    old = os.umask(mask)
    try:
        shared = write_atomic(tmp_path / "KZ-synthesis.md", "text")
        saved = save_atomic(tmp_path / "KZ-synthesis.docx", lambda tmp: tmp.write_bytes(b"PK"))
        private = save_atomic(tmp_path / "KZ-MOH-feedback.xlsx", lambda tmp: tmp.write_bytes(b"PK"), private=True)
        with staged_writes(tmp_path / "forms") as staging:
            staging.write(tmp_path / "forms" / "KZ" / "KZ-MOH.xlsx", b"PK")
    finally:
        os.umask(old)
    for path in (shared, saved, tmp_path / "forms" / "KZ" / "KZ-MOH.xlsx"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~mask, path
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
