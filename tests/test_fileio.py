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
