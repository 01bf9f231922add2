"""Hostile and careless input to ``consult ingest``: odd files, odd folders, odd names, a
flood of problems, a killed parent. Each test builds its files at test time from real
filled returns and checks what the store holds afterwards."""

from __future__ import annotations

import json
import os
import pickle
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hostile_corpus import build, rewrite, stale_dimension, unknown_ids
from typer.testing import CliRunner

from consult.cli import app
from consult.definitions import bundled_definition
from consult.definitions.questionnaire import resolve
from consult.errors import CATALOGUE
from consult.intake.ingest import ingest
from consult.intake.reader import MAX_PROBLEMS
from consult.store import Store
from consult.workspace import Workspace, init_workspace, open_workspace

ROUND = "test-round"


def answers_of(ws: Workspace) -> dict[str, tuple[str, dict[str, Any]]]:
    """file name -> (status, {item id: stored value}) for every return in the store."""
    with Store(ws.db_path) as store:
        rows = store.returns()
        by_id: dict[int, dict[str, Any]] = {r.id: {} for r in rows}
        for a in store.answers(list(by_id)):
            by_id[a.return_id][a.item_id] = a.value
    return {r.file_name: (r.status, by_id[r.id]) for r in rows}


def reference(path: Path, tmp_path: Path, sealed_by: Workspace) -> dict[str, Any]:
    """The answers of a pristine return, ingested alone into a scratch workspace."""
    init_workspace(tmp_path / f"ref-{path.stem}", round_id=ROUND, countries=["KZ", "KG", "TJ"])
    ws = open_workspace(tmp_path / f"ref-{path.stem}")
    shutil.copy(sealed_by.secret_path, ws.secret_path)  # the key the forms were sealed with
    [result] = ingest([path], ws)
    assert result.status == "accepted", [str(f) for f in result.errors + result.missing]
    return answers_of(ws)[path.name][1]


def run_cli(ws: Workspace, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "consult", "--workspace", str(ws.root), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "COLUMNS": "200"},
    )


@pytest.mark.slow
def test_the_whole_hostile_corpus_in_one_run(workspace, make_return, tmp_path):
    base = make_return("KZ", "MFA", name="base.xlsx")
    other = make_return("KG", "MOH", name="other.xlsx")
    expect = build(tmp_path / "corpus", base, other)
    want = {"base": reference(base, tmp_path, workspace), "other": reference(other, tmp_path, workspace)}
    run = run_cli(workspace, "ingest", "--workers", "2", "--json", str(tmp_path / "corpus"))
    assert run.returncode == 1, run.stderr  # some files are refused: exit 1, never 70
    assert "Traceback" not in run.stderr and "Internal error" not in run.stderr, run.stderr
    results = {r["file"]: r for r in json.loads(run.stdout)}
    assert set(results) == set(expect), set(results) ^ set(expect)
    for name, what in expect.items():
        status = results[name]["status"]
        if what == "same":
            assert status == "accepted", (name, results[name]["errors"], results[name]["missing"])
        else:
            assert status == what, (name, status, results[name]["errors"])
    for r in results.values():  # bounded whatever the file holds
        assert len(r["errors"]) <= MAX_PROBLEMS + 1 and len(r["warnings"]) <= MAX_PROBLEMS + 1
    stored = answers_of(workspace)
    assert not {n for n, w in expect.items() if w in ("unreadable", "duplicate")} & set(stored)
    for name, what in expect.items():
        if what == "rejected":
            assert stored[name] == ("rejected", {}), name
        elif what == "same":
            status, answers = stored[name]
            assert status in ("accepted", "superseded"), (name, status)
            assert answers == want["other" if name.startswith("evil") else "base"], name


def test_stale_dimension_reads_every_row(workspace, make_return, tmp_path):
    """Sheets (the metadata sheet too) declaring ``<dimension ref="A1"/>``: every row is read."""
    path = make_return("KZ", "CUSTOMS")
    want = reference(path, tmp_path, workspace)
    stale = rewrite(path, tmp_path / "stale.xlsx", lambda n, d: stale_dimension(d) if "worksheets/" in n else d)
    with __import__("zipfile").ZipFile(stale) as zf:
        assert all(b'<dimension ref="A1"/>' in zf.read(n) for n in zf.namelist() if "worksheets/" in n)
    [result] = ingest([stale], workspace)
    assert result.status == "accepted", [str(f) for f in result.errors + result.missing + result.warnings]
    assert not result.warnings
    assert answers_of(workspace)["stale.xlsx"] == ("accepted", want)


def test_fifo_and_device_are_not_read(workspace, make_return, tmp_path):
    folder = tmp_path / "inbox"
    folder.mkdir()
    good = make_return("KZ", "MFA")
    shutil.copy(good, folder / "good.xlsx")
    os.mkfifo(folder / "pipe.xlsx")
    os.mkfifo(folder / "pipe.csv")  # a web export's name: never opened to see if it is one
    os.symlink("/dev/zero", folder / "zero.xlsx")
    started = time.monotonic()
    run = run_cli(workspace, "ingest", "--json", str(folder), timeout=60)  # hung forever before
    assert time.monotonic() - started < 60
    assert run.returncode == 1, run.stderr
    results = {r["file"]: r for r in json.loads(run.stdout)}
    assert results["good.xlsx"]["status"] == "accepted"
    fifo = "a named pipe (FIFO)"
    for name, kind in (("pipe.xlsx", fifo), ("pipe.csv", fifo), ("zero.xlsx", "a device")):
        assert results[name]["status"] == "unreadable"
        [error] = results[name]["errors"]
        assert error["code"] == "not-regular" and error["message"] == CATALOGUE["not-regular"][0].format(kind=kind)
    assert set(answers_of(workspace)) == {"good.xlsx"}


def test_terminal_escapes_in_file_names_are_printed_escaped(workspace, make_return, runner):
    path = make_return("KZ", "MFA", {"staff": "many"}, name="evil\x1b[2J\x1b]0;pwned\x07\u202e.xlsx")
    result = runner.invoke(app, ["--workspace", str(workspace.root), "ingest", str(path)], catch_exceptions=False)
    assert result.exit_code == 1
    assert "\x1b" not in result.stdout and "\x07" not in result.stdout and "\u202e" not in result.stdout
    assert "evil\\x1b[2J\\x1b]0;pwned\\x07\\u202e.xlsx" in result.stdout
    assert "found 'many', expected a number of at least 0" in result.stdout


def _as_nobody(call: Callable[[], Any]) -> Any:
    """Run ``call`` in a forked child with the rights of an ordinary user (tests run as root
    in CI, and root reads everything): the permission checks then really apply."""
    if os.geteuid() != 0:
        return call()
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: drop to nobody, run, send the result back
        code = 0
        try:
            os.close(read)
            os.setgroups([])
            os.setgid(65534)
            os.setuid(65534)
            payload = pickle.dumps(("ok", call()))
        except BaseException as exc:  # report anything to the parent, which fails the test
            payload = pickle.dumps(("error", repr(exc)))
            code = 1
        with os.fdopen(write, "wb") as fh:
            fh.write(payload)
        os._exit(code)
    os.close(write)
    with os.fdopen(read, "rb") as fh:
        kind, value = pickle.loads(fh.read())
    os.waitpid(pid, 0)
    assert kind == "ok", value
    return value


def test_local_problems_are_reported_as_such(workspace, make_return):
    """An unreadable sub-folder is reported (exit 1), an unreadable file is a local
    permission problem (not the sender's), a link loop says so, a folder called x.xlsx is
    searched once."""
    top = Path(tempfile.mkdtemp(prefix="consult-perm-"))  # outside pytest's private tmp: reachable by nobody
    try:
        init_workspace(top / "ws", round_id=ROUND, countries=["KZ", "KG", "TJ"])
        shutil.copy(workspace.secret_path, open_workspace(top / "ws").secret_path)
        inbox = top / "inbox"
        (inbox / "locked").mkdir(parents=True)
        (inbox / "x.xlsx").mkdir()
        shutil.copy(make_return("KZ", "MFA"), inbox / "locked" / "hidden.xlsx")
        shutil.copy(make_return("KZ", "MOH"), inbox / "x.xlsx" / "inside.xlsx")
        shutil.copy(make_return("KZ", "MOJ"), inbox / "secret.xlsx")
        os.symlink("loop.xlsx", inbox / "loop.xlsx")
        for p in [top, *top.rglob("*")]:
            if not p.is_symlink():
                p.chmod(0o777 if p.is_dir() else 0o666)
        (inbox / "locked").chmod(0o000)
        (inbox / "secret.xlsx").chmod(0o000)

        def run() -> tuple[int, str, list[tuple[str, str, list[str]]]]:
            from typer.testing import CliRunner

            ws = open_workspace(top / "ws")
            cli = CliRunner().invoke(app, ["--workspace", str(ws.root), "ingest", str(inbox)])
            listed = [(r.file, r.status, [f.code for f in r.errors]) for r in ingest([inbox], ws, dry_run=True)]
            return cli.exit_code, cli.stdout, listed

        # the same command as root first, storing nothing: consult (and Typer) import modules inside
        # each command, and as nobody the child could not read root's Python installation
        CliRunner().invoke(app, ["--workspace", str(top / "ws"), "ingest", "--dry-run", str(inbox)])
        import jsonschema  # noqa: F401  (nobody cannot read root's cache of schema passes: it checks again)

        exit_code, stdout, listed = _as_nobody(run)
    finally:
        for p in [top, *top.rglob("*")]:
            if not p.is_symlink() and p.exists():
                p.chmod(0o777 if p.is_dir() else 0o666)
        shutil.rmtree(top, ignore_errors=True)
    assert exit_code == 1, stdout
    by_name = {name: (status, codes) for name, status, codes in listed}
    assert by_name["locked"] == ("unreadable", ["permission"])
    assert by_name["secret.xlsx"] == ("unreadable", ["permission"])
    assert by_name["loop.xlsx"] == ("unreadable", ["link-loop"])
    assert by_name["inside.xlsx"][0] == "duplicate"  # ingested once by the CLI run above
    assert [name for name, _s, _c in listed].count("inside.xlsx") == 1
    assert "not the sender's" in stdout and "ask the sender" not in stdout.split("secret.xlsx", 1)[1].split("\n")[0]
    assert "symbolic link loop" in stdout and "no such file" not in stdout


def test_problem_lists_are_bounded_and_a_non_form_stops_early(workspace, make_return, tmp_path):
    good = make_return("KZ", "MFA")
    flood = rewrite(good, tmp_path / "flood.xlsx", lambda n, d: unknown_ids(100_000)(d) if "worksheets/" in n else d)
    started = time.monotonic()
    [result] = ingest([flood], workspace)
    assert time.monotonic() - started < 20
    assert result.status == "rejected"
    assert result.errors[0].code == "not-a-form"
    assert len(result.errors) == MAX_PROBLEMS + 1 and result.errors[-1].code == "more-problems"
    # many problems that are each real (45 unknown ids, every rating invalid): the first
    # MAX_PROBLEMS, and a count of the rest
    form = resolve(bundled_definition().questionnaire, bundled_definition().framework, "KZ", "MFA")
    ratings = {i.id: "9" for i in form.items if i.type == "rating"}
    bad = make_return("KZ", "MFA", ratings)
    noisy = rewrite(bad, tmp_path / "noisy.xlsx", lambda n, d: unknown_ids(45)(d) if n.endswith("sheet2.xml") else d)
    [result] = ingest([noisy], workspace)
    assert result.status == "rejected" and len(ratings) > 10
    assert [f.code for f in result.errors[:45]] == ["unknown-question"] * 45
    assert len(result.errors) == MAX_PROBLEMS + 1
    rest = 45 + len(ratings) - MAX_PROBLEMS
    assert result.errors[-1].message == CATALOGUE["more-problems"][0].format(count=rest)
    with sqlite3.connect(workspace.db_path) as conn:
        stored = [json.loads(e) for (e,) in conn.execute("SELECT errors FROM returns")]
    assert all(len(e) <= MAX_PROBLEMS + 1 for e in stored)


def test_opendocument_and_repetitive_files_are_named_for_what_they_are(workspace, make_return, tmp_path):
    from hostile_corpus import ods_bytes, repetitive

    ods = tmp_path / "KZ-MFA.ods"
    ods.write_bytes(ods_bytes())
    rep = repetitive(make_return("KZ", "MFA"), tmp_path / "rep.xlsx")
    results = {r.file: r for r in ingest([ods, rep], workspace)}
    assert results["KZ-MFA.ods"].errors[0].message == (
        "not an Excel .xlsx workbook (it is an OpenDocument spreadsheet: save it as .xlsx "
        "(File > Save As > Excel 2007-365))"
    )
    [ratio] = results["rep.xlsx"].errors
    assert ratio.code == "zip-ratio" and "at most 200 times" in ratio.message


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc to find the reader processes")
def test_reader_processes_exit_when_the_parent_is_killed(workspace, make_return, tmp_path):
    folder = tmp_path / "many"
    folder.mkdir()
    source = make_return("KZ", "MFA")
    for i in range(400):  # copies: reading them takes a while, storing is skipped by --dry-run
        shutil.copy(source, folder / f"{i:03d}.xlsx")
    command = ["ingest", "--workers", "2", "--dry-run", str(folder)]
    proc = subprocess.Popen(
        [sys.executable, "-m", "consult", "-w", str(workspace.root), *command],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    workers: list[int] = []
    while time.monotonic() < deadline and len(workers) < 2:
        workers = _children(proc.pid)
        time.sleep(0.05)
    assert len(workers) >= 2, "the reader processes did not start"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(_alive(w) for w in workers):
        time.sleep(0.1)
    alive = [w for w in workers if _alive(w)]
    for w in alive:  # do not leave them behind if the test fails
        os.kill(w, signal.SIGKILL)
    assert not alive, "reader processes survived their parent"


def test_large_parts_are_streamed_with_the_same_result(workspace, make_return, tmp_path, monkeypatch):
    """Parts above STREAM_ABOVE are parsed row by row (bounded memory); the answers read must
    be those of the whole-part parse, shared strings and a DTD check included."""
    from hostile_corpus import LAUGHS, _replace_sheet, shared_strings

    import consult.intake.xlsx as xlsx

    path = make_return("KG", "BORDER")
    want = reference(path, tmp_path, workspace)
    excel_like = shared_strings(path, tmp_path / "excel-like.xlsx")
    laughs = rewrite(path, tmp_path / "laughs.xlsx", _replace_sheet(LAUGHS))
    monkeypatch.setattr(xlsx, "STREAM_ABOVE", 0)  # every sheet and the shared strings streamed
    results = {r.file: r for r in ingest([excel_like, laughs], workspace)}
    assert results["excel-like.xlsx"].status == "accepted", [str(f) for f in results["excel-like.xlsx"].errors]
    assert answers_of(workspace)["excel-like.xlsx"] == ("accepted", want)
    assert "EntitiesForbidden" in results["laughs.xlsx"].errors[0].message
