"""Faults of the machine and of timing, tried with real processes (issue 25): two commands at
once, a command killed (SIGKILL, SIGTERM as ``timeout`` sends), a file-size limit, a locked
store. Each test runs the real ``consult`` command in a subprocess and checks what is left."""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from consult.intake.ingest import ingest
from consult.workspace import Workspace, open_store

LINUX_PROC = Path("/proc/self/stat").exists()
needs_proc = pytest.mark.skipif(not LINUX_PROC, reason="needs /proc to find the worker processes")


def consult(ws: Workspace, *args: str, **kwargs: Any) -> subprocess.Popen[str]:
    """Start the real command (``python -m consult``) in its own process."""
    env = {**os.environ, "COLUMNS": "200", **kwargs.pop("env", {})}
    return subprocess.Popen(
        [sys.executable, "-m", "consult", "-w", str(ws.root), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        **kwargs,
    )


def finish(proc: subprocess.Popen[str], timeout: float = 180) -> tuple[int, str, str]:
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, out, err


def clean_stderr(err: str) -> None:
    """No traceback, no bug report, no "Exception ignored" echo."""
    assert "Traceback" not in err and "Exception ignored" not in err and "Internal error" not in err, err


def children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            found.append(int(stat.parent.name))
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def tree(folder: Path) -> dict[str, int]:
    """Every file under ``folder`` (hidden ones too) with its size."""
    if not folder.exists():
        return {}
    return {str(p.relative_to(folder)): p.stat().st_size for p in sorted(folder.rglob("*")) if p.is_file()}


# --- 1. two `consult quotes import` at once keep both sets of translations ----------------------

# the real command, with the read-merge-write window held open: without a lock the two imports
# both read the same old translations, and the second to write drops the first one's
SLOW_MERGE = textwrap.dedent(
    """
    import sys, time
    import consult.report.translations as t
    load = t.load_translations
    def slow(*args, **kwargs):
        data = load(*args, **kwargs)
        time.sleep(3)  # long enough to overlap however late the other process starts on a busy machine
        return data
    t.load_translations = slow
    sys.argv = ["consult", *sys.argv[1:]]
    from consult.cli import main
    main()
    """
)


@pytest.fixture
def quoted(workspace, make_return):
    """Two Russian answers to translate into English."""
    paths = [
        make_return("KZ", "MOH", {"DRUGS.challenges": "ВИЧ среди людей, употребляющих наркотики."}),
        make_return("KG", "MOJ", {"DRUGS.challenges": "Нехватка кадров в пенитенциарной системе."}),
    ]
    assert all(r.status == "accepted" for r in ingest(paths, workspace))
    return workspace


def test_two_quotes_imports_at_once_keep_both_translations(quoted, tmp_path):
    sheet = tmp_path / "quotes.xlsx"
    code, _, err = finish(consult(quoted, "quotes", "export", "--lang", "en", "--out", str(sheet)))
    assert code == 0, err
    filled = []
    wb = load_workbook(sheet)
    ids = [row[0].value for row in wb["quotes"].iter_rows(min_row=2)][:2]
    assert len(ids) == 2
    for n, qid in enumerate(ids):  # each translator translated one quote
        wb = load_workbook(sheet)
        for row in wb["quotes"].iter_rows(min_row=2):
            if row[0].value == qid:
                row[7].value = f"translation {n}"
        wb.save(tmp_path / f"filled-{n}.xlsx")
        filled.append(tmp_path / f"filled-{n}.xlsx")
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", SLOW_MERGE, "-w", str(quoted.root), "quotes", "import", "--lang", "en", str(f)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for f in filled
    ]
    results = [finish(p) for p in procs]
    assert [r[0] for r in results] == [0, 0], results
    for _, out, err in results:
        assert "Imported 1 translation(s)" in out
        clean_stderr(err)
    stored = json.loads((quoted.root / "translations" / "quotes-en.json").read_text(encoding="utf-8"))
    assert {stored[qid]["translation"] for qid in ids} == {"translation 0", "translation 1"}
    assert any("waiting for another consult command" in r[2] for r in results)  # the second one said it waited


# --- 3, 4. a killed command: no worker outlives it, nothing written after, no partial file ------


@pytest.fixture
def three_countries(workspace, make_return):
    paths = [make_return(c, i, seed=n) for n, (c, i) in enumerate([("KZ", "MOH"), ("KG", "MOJ"), ("TJ", "MFA")])]
    assert all(r.status == "accepted" for r in ingest(paths, workspace))
    return workspace


def workers_of(proc: subprocess.Popen[str]) -> list[int]:
    """The pids of the command's worker processes, as soon as they run (fails if it ends first)."""
    deadline = time.monotonic() + 120
    workers: list[int] = []
    while time.monotonic() < deadline and not workers and proc.poll() is None:
        workers = children(proc.pid)
        time.sleep(0.01)
    assert workers, f"the command finished before its workers were seen: {proc.communicate()}"
    return workers


def kill_when_working(
    proc: subprocess.Popen[str], sig: int, settle: float = 0.0, started: Path | None = None
) -> list[int]:
    """Send ``sig`` to the command as soon as its worker processes run (and, with ``started``,
    once the first of its files is staged in that folder: mid-writing, however fast it writes);
    their pids."""
    workers = workers_of(proc)
    while started is not None and proc.poll() is None and not any(n.startswith(".consult-") for n in tree(started)):
        time.sleep(0.002)
    time.sleep(settle)
    workers = sorted(set(workers) | set(children(proc.pid)))
    proc.send_signal(sig)
    return workers


def gone(workers: list[int], within: float = 10) -> list[int]:
    """The workers still alive after ``within`` seconds (killed, so as not to leave them)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline and any(alive(w) for w in workers):
        time.sleep(0.05)
    left = [w for w in workers if alive(w)]
    for w in left:
        os.kill(w, signal.SIGKILL)
    return left


def visible(folder: Path) -> dict[str, int]:
    return {name: size for name, size in tree(folder).items() if not name.startswith(".consult-")}


@needs_proc
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["kill-9", "sigterm"])
def test_killed_synthesize_leaves_no_worker_no_late_file_and_no_partial_file(three_countries, tmp_path, sig):
    out = tmp_path / "synthesis"
    proc = consult(three_countries, "synthesize", "--all", "--regional", "--out", str(out))
    workers = kill_when_working(proc, sig, started=out)
    code, _, err = finish(proc, timeout=30)
    left = gone(workers)
    assert not left, "worker processes survived their command"
    at_exit = tree(out)
    time.sleep(1.5)
    assert tree(out) == at_exit, "files were written after the command exited"
    assert visible(out) == {}, "a killed run published part of its outputs"
    if sig == signal.SIGTERM:
        assert code == 143, err
        assert "Stopped (SIGTERM)" in err
        clean_stderr(err)
        assert at_exit == {}, "SIGTERM: the staging folder is removed on the way out"
    # the next run publishes every file and removes what the killed one left
    code, _, err = finish(consult(three_countries, "synthesize", "--all", "--regional", "--out", str(out)))
    assert code == 0, err
    names = set(tree(out))
    assert {"KZ-synthesis.en.md", "KG-synthesis.en.docx", "TJ-synthesis.en.md", "regional-synthesis.en.docx"} <= names
    assert not [n for n in names if n.startswith(".consult-") or n.endswith(".tmp")], names
    import re

    figures = {f for md in out.glob("*.md") for f in re.findall(r"!\[[^\]]*\]\(([^)]+)\)", md.read_text("utf-8"))}
    assert figures and figures <= names, figures - names  # also those a worker process drew


@needs_proc
def test_a_worker_killed_by_the_system_fails_the_command_instead_of_hanging_it(three_countries, tmp_path):
    """The out-of-memory killer takes a synthesis worker: exit 1 with what to do, nothing published."""
    out = tmp_path / "synthesis"
    proc = consult(three_countries, "synthesize", "--all", "--regional", "--out", str(out))
    workers = workers_of(proc)
    for w in workers:
        os.kill(w, signal.SIGKILL)
    code, _, err = finish(proc, timeout=60)  # never blocks forever
    assert code == 1, err
    clean_stderr(err)
    assert "a worker process of this command ended unexpectedly" in " ".join(err.split())
    assert visible(out) == {} and tree(out) == {}


@needs_proc
@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["kill-9", "sigterm"])
def test_killed_generate_leaves_no_worker_and_no_form(workspace, tmp_path, sig):
    out = tmp_path / "forms"
    proc = consult(workspace, "generate", "--all", "--out", str(out))
    workers = kill_when_working(proc, sig)
    code, _, err = finish(proc, timeout=30)
    assert not gone(workers), "worker processes survived their command"
    assert visible(out) == {}
    if sig == signal.SIGTERM:
        assert code == 143, err
        clean_stderr(err)
        assert tree(out) == {}
    code, _, err = finish(consult(workspace, "generate", "-c", "KZ", "--out", str(out)))
    assert code == 0, err
    assert not [n for n in tree(out) if ".consult-" in n], tree(out)


@needs_proc
def test_ingest_stopped_by_sigterm_stops_its_readers_and_keeps_whole_returns(workspace, make_return, tmp_path):
    import shutil

    folder = tmp_path / "many"
    folder.mkdir()
    source = make_return("KZ", "MFA")
    for i in range(200):
        shutil.copy(source, folder / f"{i:03d}.xlsx")
    proc = consult(workspace, "ingest", "--workers", "2", str(folder))
    workers = kill_when_working(proc, signal.SIGTERM)
    code, _, err = finish(proc, timeout=30)
    assert code == 143, err
    clean_stderr(err)
    assert not gone(workers), "reader processes survived their command"
    with open_store(workspace) as store:
        assert store.integrity_ok()
        rows = store.returns()
        assert len(rows) <= 1 and all(r.status == "accepted" for r in rows)  # copies: one return, whole


# --- 5. every OS error is a clear exit 1 ----------------------------------------------------------


def file_size_limit(limit: int) -> Any:
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


@pytest.mark.parametrize(
    "args",
    [
        ["synthesize", "--all", "--regional"],
        ["generate", "--all"],
    ],
    ids=["synthesize", "generate"],
)
def test_a_file_size_limit_is_a_clear_error_not_a_bug(three_countries, tmp_path, args):
    out = tmp_path / "out"
    # EFBIG past 33 KB: SQLite's shared-memory file (32 KB) fits, a synthesis or a definition does not
    proc = consult(three_countries, *args, "--out", str(out), preexec_fn=file_size_limit(33_000))
    code, _, err = finish(proc)
    assert code == 1, err
    clean_stderr(err)
    text = " ".join(err.split())
    assert "File too large" in text and "raise the limit or write to another disk" in text
    assert visible(out) == {}
    assert not [n for n in tree(out) if ".consult-" in n or n.endswith(".tmp")]


def test_a_full_disk_is_a_clear_error_without_an_echo(three_countries, tmp_path):
    """A real full disk: a 120 KB tmpfs (where this test may mount one)."""
    mount = tmp_path / "small"
    mount.mkdir()
    made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=120k", "tmpfs", str(mount)], capture_output=True)
    if made.returncode != 0:
        pytest.skip("cannot mount a small file system here")
    try:
        code, _, err = finish(consult(three_countries, "synthesize", "--all", "--regional", "--out", str(mount)))
        assert code == 1, err
        clean_stderr(err)
        assert "No space left on device" in err and "the disk is full: free some space" in " ".join(err.split())
        assert visible(mount) == {} and not [n for n in tree(mount) if ".consult-" in n]
    finally:
        subprocess.run(["umount", str(mount)], check=False)


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores file permissions")
def test_a_read_only_output_folder_is_a_clear_error(three_countries, tmp_path):
    out = tmp_path / "ro"
    out.mkdir()
    os.chmod(out, 0o555)
    try:
        code, _, err = finish(consult(three_countries, "synthesize", "--all", "--out", str(out)))
    finally:
        os.chmod(out, 0o755)
    assert code == 1, err
    clean_stderr(err)
    assert "Permission denied" in err


# --- 6. a locked store: waiting is said, then a clear error ----------------------------------------

HOLD_LOCK = textwrap.dedent(
    """
    import sqlite3, sys, time
    conn = sqlite3.connect(sys.argv[1], isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    print("locked", flush=True)
    time.sleep(float(sys.argv[2]))
    conn.execute("ROLLBACK")
    """
)


def hold_lock(ws: Workspace, seconds: float) -> subprocess.Popen[str]:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(ws.db_path), str(seconds)], stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
    return holder


def test_a_locked_store_says_it_waits_then_goes_on(workspace, make_return):
    path = make_return("KZ", "MFA")
    holder = hold_lock(workspace, 3)
    started = time.monotonic()
    code, _, err = finish(consult(workspace, "ingest", str(path)))
    holder.wait()
    assert code == 0, err
    assert "waiting for another consult command (1 s)" in err
    assert time.monotonic() - started >= 2.5


def test_a_store_locked_too_long_is_a_clear_error(workspace, make_return):
    path = make_return("KZ", "MFA")
    holder = hold_lock(workspace, 30)
    try:
        code, _, err = finish(consult(workspace, "ingest", str(path), env={"CONSULT_LOCK_TIMEOUT": "3"}))
    finally:
        holder.kill()
        holder.wait()
    assert code == 1, err
    clean_stderr(err)
    text = " ".join(err.split())
    assert "waiting for another consult command" in text
    assert "is busy: another consult command has been writing to it for 3 s" in text
    assert "CONSULT_LOCK_TIMEOUT=SECONDS waits longer" in text
    with open_store(workspace) as store:
        assert store.returns() == []


# --- 2. one store snapshot per command ------------------------------------------------------------


def test_a_read_command_sees_one_snapshot_while_an_ingest_commits(workspace, make_return):
    from consult.analysis.data import load_round

    first = make_return("KZ", "MFA", seed=1)
    assert ingest([first], workspace)[0].status == "accepted"
    later = [make_return("KZ", inst, seed=n) for n, inst in enumerate(["MOH", "GPO", "FIU"])]
    with open_store(workspace) as store:
        before = load_round(store, workspace)
        code, _, err = finish(consult(workspace, "ingest", *map(str, later)))  # another process commits 3 returns
        assert code == 0, err
        after = load_round(store, workspace)  # the same command reads again: the same snapshot
        assert len(after.countries["KZ"].returns) == len(before.countries["KZ"].returns) == 1
        assert after.coverage.countries["KZ"].responded == 1
        assert len(after.countries["KZ"].answers) == len(before.countries["KZ"].answers)
    with open_store(workspace) as store:  # the next command sees them
        assert len(load_round(store, workspace).countries["KZ"].returns) == 4


# --- issue 21: files colleagues may open get the umask's mode; personal data stays private ---------


def test_outputs_follow_the_umask_and_feedback_workbooks_stay_private(workspace, make_return, cli, tmp_path):
    import stat

    incomplete = make_return("KZ", "MOH", drop=["DRUGS.priority"])
    assert ingest([incomplete, make_return("KG", "MOJ")], workspace)[0].status == "incomplete"
    old = os.umask(0o002)  # a team's shared drive: group-writable
    try:
        assert cli("synthesize", "--all", "--out", str(tmp_path / "syn")).exit_code == 0
        assert cli("feedback", "--out", str(tmp_path / "fb")).exit_code == 0
        assert cli("export", "--out", str(tmp_path / "answers.csv")).exit_code == 0
    finally:
        os.umask(old)

    def mode(path: Path) -> int:
        return stat.S_IMODE(path.stat().st_mode)

    shared = [
        *(tmp_path / "syn").iterdir(),
        tmp_path / "answers.csv",
        tmp_path / "fb" / "KZ" / "KZ-MOH-feedback.en-ru.txt",
    ]
    assert shared and all(mode(p) == 0o664 for p in shared), {p.name: oct(mode(p)) for p in shared}
    assert (
        mode(tmp_path / "fb" / "KZ" / "KZ-MOH-feedback.en-ru.xlsx") == 0o600
    )  # the institution's answers, contacts too


# --- 7. listing commands are linear in the number of returns ---------------------------------------


def test_explaining_a_long_history_is_linear():
    """20,000 versions: the old explain() compared every return with every other (4·10⁸ steps,
    tens of seconds); one pass takes well under a second."""
    from consult.store import ReturnRow, explain

    def row(i: int, status: str, by: int | None) -> ReturnRow:
        return ReturnRow(
            i, f"v{i}.xlsx", "0" * 64, 1, "KZ", f"I{i % 12}", None, None, None, "r", None, "2020-01-01", status, by,
            respondent_date=f"2020-01-{1 + i % 28:02d}",
        )  # fmt: skip

    n = 20_000
    rows = [row(i, "superseded", i + 12) for i in range(1, n - 11)] + [
        row(i, "accepted", None) for i in range(n - 11, n + 1)
    ]
    started = time.perf_counter()
    why = explain(rows)
    assert time.perf_counter() - started < 2.0
    assert len(why) == n
    assert why[n].startswith("newest of ")
