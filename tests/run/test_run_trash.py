"""The run's trash: a replaced stage folder leaves the run in one rename and is removed in
the background by the lock's holder, before the command ends; a killed command's trash is
collected by the next command that takes the lock."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from holo_run_helpers import chain, cli, cli_env, load_json, output_hashes, write_config

from holopipe.pipeline import RunRequest, run_pipeline
from holopipe.run import trash as trash_module
from holopipe.run.context import RunContext
from holopipe.run.layout import RunLayout
from holopipe.run.trash import TRASH_DIR, TrashCollector, discard
from holopipe.stages.runner import execute_stage
from holopipe.testing import Chain02


def _folder(root: Path, name: str, files: int = 3) -> Path:
    folder = root / name
    (folder / "out").mkdir(parents=True)
    for i in range(files):
        (folder / "out" / f"{i}.json").write_text("{}")
    return folder


def test_a_discarded_folder_leaves_at_once_and_the_collector_removes_it(tmp_path: Path):
    a, b = _folder(tmp_path, ".01_a.old"), _folder(tmp_path, "02_b.failed")
    discard(a)
    discard(b)
    assert sorted(p.name for p in tmp_path.iterdir()) == [TRASH_DIR]
    entries = sorted(p.name for p in (tmp_path / TRASH_DIR).iterdir())
    assert len(entries) == 2 and entries[0].startswith("01_a.old.")
    assert entries[1].startswith("02_b.failed.")
    collector = TrashCollector(tmp_path)
    collector.collect()
    collector.wait()
    assert list(tmp_path.iterdir()) == []


def _held_removal(tmp_path: Path, monkeypatch) -> tuple[Path, Path]:
    """Make each removal of a trash entry wait for the file ``go`` (the removers are other
    processes: files, not events); it first writes its pid into ``started.<pid>``."""
    gate = tmp_path.parent / f"{tmp_path.name}.gate"
    gate.mkdir()
    real_remove = trash_module._remove

    def held_remove(trash: Path, name: str) -> None:
        (gate / f"started.{os.getpid()}").touch()
        deadline = time.monotonic() + 10
        while not (gate / "go").exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        real_remove(trash, name)

    monkeypatch.setattr(trash_module, "_remove", held_remove)
    return gate, gate / "go"


def _started(gate: Path) -> list[int]:
    """The pids of the removals started, once one has (waits up to 10 s)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        pids = [int(p.name.split(".")[1]) for p in gate.glob("started.*")]
        if pids:
            return pids
        time.sleep(0.01)
    return []


def test_what_is_discarded_while_the_collector_works_is_removed_too(tmp_path: Path, monkeypatch):
    gate, go = _held_removal(tmp_path, monkeypatch)
    discard(_folder(tmp_path, ".01_a.old"))
    collector = TrashCollector(tmp_path)
    collector.collect()
    assert _started(gate)
    discard(_folder(tmp_path, ".02_b.old"))  # while the first one is being removed
    collector.collect()  # a second remover, for the new entry only
    go.touch()
    collector.wait()
    assert list(tmp_path.iterdir()) == []


def test_the_removal_runs_in_another_process_and_leaves_the_caller_one_thread(
    tmp_path: Path, monkeypatch
):
    """The orchestrator forks the next stage while the removal goes on: it must have no
    other thread then (a fork copies none of them; Python 3.12 warns)."""
    gate, go = _held_removal(tmp_path, monkeypatch)
    discard(_folder(tmp_path, ".01_a.old", files=trash_module._PARALLEL_MIN * 2))
    collector = TrashCollector(tmp_path)
    threads = threading.active_count()
    collector.collect()
    pids = _started(gate)
    assert pids and os.getpid() not in pids
    assert threading.active_count() == threads  # removal under way, no thread started here
    go.touch()
    collector.wait()
    assert list(tmp_path.iterdir()) == []


def test_an_entry_that_cannot_be_removed_does_not_hold_the_command(tmp_path: Path, monkeypatch):
    discard(_folder(tmp_path, ".01_a.old"))
    monkeypatch.setattr(trash_module, "_remove", lambda trash, name: None)  # e.g. EPERM
    collector = TrashCollector(tmp_path)
    collector.collect()
    collector.wait()  # returns: tried once
    assert len(list((tmp_path / TRASH_DIR).iterdir())) == 1


def test_where_the_trash_cannot_be_made_the_folder_is_removed_on_the_spot(tmp_path: Path):
    (tmp_path / TRASH_DIR).write_text("a file in the way")
    discard(_folder(tmp_path, ".01_a.old"))
    assert sorted(p.name for p in tmp_path.iterdir()) == [TRASH_DIR]
    assert (tmp_path / TRASH_DIR).read_text() == "a file in the way"


def test_a_published_stage_puts_its_previous_folder_in_the_trash(in_tmp: Path):
    config = write_config(in_tmp / "c.json", chain(2))
    assert run_pipeline(RunRequest(Path("runs"), "x", config), echo=lambda line: None) == 0
    root = in_tmp / "runs" / "x"
    before = load_json(root / "02_chain_step" / "chain_02" / "sys_d3_0000.json")
    layout = RunLayout.create(Path("runs"), "x")
    run = RunContext(layout, {**load_json(layout.config_path), "stages": {"02": {"offset": 2.0}}})
    assert execute_stage(run, Chain02) == 0  # outside a command: nobody collects
    after = load_json(root / "02_chain_step" / "chain_02" / "sys_d3_0000.json")
    assert after["systems"][0]["R_mean"] == before["systems"][0]["R_mean"] + 2.0
    (entry,) = (root / TRASH_DIR).iterdir()  # the previous outputs, whole, out of the run
    assert entry.name.startswith("02_chain_step.old.")
    assert load_json(entry / "chain_02" / "sys_d3_0000.json") == before
    assert not (root / ".02_chain_step.old").exists()


def test_a_rerun_leaves_no_trash_and_a_killed_commands_trash_is_collected(in_tmp: Path):
    config = write_config(in_tmp / "c.json", chain(3), stages={"01": {"n_systems": 5}})
    assert cli("run", "-e", "x", "--config", config, cwd=in_tmp).returncode == 0
    root = in_tmp / "runs" / "x"
    done = cli("run", "-e", "x", "--set", "stages.02.offset=1.5", "--force", cwd=in_tmp)
    assert done.returncode == 0, done.stderr
    assert "running" in done.stdout
    assert not (root / TRASH_DIR).exists()
    assert not [p.name for p in root.iterdir() if p.name.endswith((".old", ".partial"))]
    expected = output_hashes(root)
    # what a command killed before its collector finished leaves behind
    _folder(root / TRASH_DIR, "02_chain_step.old.123.0", files=20)
    _folder(root / TRASH_DIR, "03_chain_step.old.123.1", files=20)
    noop = cli("run", "-e", "x", cwd=in_tmp)
    assert noop.returncode == 0 and "running" not in noop.stdout, noop.stdout
    assert not (root / TRASH_DIR).exists()
    assert output_hashes(root) == expected


def test_the_validator_names_the_trash_as_holopipes_own():
    from holopipe.artifacts.run_records import hidden_entry

    assert hidden_entry(TRASH_DIR).startswith("holopipe's trash: replaced stage folders")


def test_the_entries_of_the_last_stage_are_kept_for_the_next_and_removed_after(tmp_path: Path):
    collector = TrashCollector(tmp_path)
    discard(_folder(tmp_path, ".01_a.old"))
    collector.collect(keep_new=True)  # what stage 01 replaced: kept for stage 02
    (kept,) = collector.kept
    assert kept.startswith("01_a.old.") and (tmp_path / TRASH_DIR / kept / "out").is_dir()
    discard(_folder(tmp_path, ".02_b.old"))
    collector.collect(keep_new=True)  # stage 02 ran: 01's entry goes, 02's is kept
    (kept2,) = collector.kept
    assert kept2.startswith("02_b.old.")
    collector.collect()  # no stage reuses anything now: all of it goes
    assert collector.kept == ()
    collector.wait()
    assert list(tmp_path.iterdir()) == []


def test_a_big_folder_is_removed_by_several_threads_whole(tmp_path: Path, monkeypatch):
    unlinked_by = set()
    real_unlink = os.unlink

    def unlink(path, *args, **kwargs):
        unlinked_by.add(threading.get_ident())
        return real_unlink(path, *args, **kwargs)

    monkeypatch.setattr(os, "unlink", unlink)
    discard(_folder(tmp_path, ".01_a.old", files=trash_module._PARALLEL_MIN * 2))
    (entry,) = os.listdir(tmp_path / TRASH_DIR)
    trash_module._remove(tmp_path / TRASH_DIR, entry)  # what a remover process runs
    assert os.listdir(tmp_path / TRASH_DIR) == []
    assert len(unlinked_by) > 1


#: Runs ``holopipe ARGS`` with a fork hook that notes, in the file $FORKS_WITH_THREADS, the
#: names of the other Python threads alive at every fork the command makes.
_WATCH_FORKS = """
import os, runpy, sys, threading

def note_threads():
    others = [t.name for t in threading.enumerate() if t is not threading.current_thread()]
    if others:
        with open(os.environ["FORKS_WITH_THREADS"], "a") as fh:
            fh.write(" ".join(others) + "\\n")

os.register_at_fork(before=note_threads)
sys.argv = ["holopipe", *sys.argv[1:]]
runpy.run_module("holopipe", run_name="__main__")
"""


def test_a_rerun_that_replaces_big_folders_forks_its_stages_with_no_other_thread(in_tmp: Path):
    """Each rerun stage discards a folder of 500 files whose removal is still going on
    as the next stage is forked (with a thread for it, the fork copied a running thread)."""
    config = write_config(in_tmp / "c.json", chain(5), stages={"01": {"n_systems": 500}})
    assert cli("run", "-e", "x", "--config", config, cwd=in_tmp).returncode == 0
    forks = in_tmp / "forks.txt"
    done = subprocess.run(
        [sys.executable, "-c", _WATCH_FORKS, "run", "-e", "x", "--set", "stages.02.offset=1",
         "--force"],
        cwd=in_tmp, env={**cli_env(), "FORKS_WITH_THREADS": str(forks)},
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.count(": running") == 4  # 02 to 05 reran, each replacing its folder
    assert not forks.exists(), forks.read_text()
