"""A rerun's stages take over the files of the folder the previous stage just replaced
(renamed, overwritten) instead of creating new ones. A notebook holding an old published
file open, or only mapped, must never see its bytes change; a kill while a taken-over file
is being written publishes nothing, and the next command completes the run with the same
outputs as an uninterrupted one and leaves no trash."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from holo_state_helpers import cli, leftovers, outputs, tree, write_config

from holopipe.run.trash import TRASH_DIR

SYSTEMS = 12


def _fresh_outputs(cwd: Path, offset: float) -> dict:
    """The outputs of an uninterrupted first run with stage 02's ``offset``, in ``cwd``."""
    cwd.mkdir()
    stages = {"01": {"n_systems": SYSTEMS}, "02": {"offset": offset}}
    config = write_config(cwd / "a.json", stages=stages)
    assert cli("run", "-e", "x", "--config", config, cwd=cwd).returncode == 0
    return outputs(cwd / "runs" / "x")


def _first_run(tmp_path: Path) -> Path:
    config = write_config(tmp_path / "a.json", stages={"01": {"n_systems": SYSTEMS}})
    done = cli("run", "-e", "x", "--config", config, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    return tmp_path / "runs" / "x"


def _inodes(folder: Path) -> dict[int, str]:
    return {os.stat(p).st_ino: p.name for p in folder.iterdir()}


def _notebook(fd_path: Path, mapped_path: Path) -> subprocess.Popen:
    """A process holding ``fd_path`` open and ``mapped_path`` only mapped (its descriptor
    closed); on a line of stdin it prints what both hold now, as hex."""
    code = (
        "import mmap, os, sys\n"
        f"fd = os.open({str(fd_path)!r}, os.O_RDONLY)\n"
        f"m_fd = os.open({str(mapped_path)!r}, os.O_RDONLY)\n"
        "m = mmap.mmap(m_fd, 0, prot=mmap.PROT_READ)\n"
        "os.close(m_fd)\n"
        "print('ready', flush=True)\n"
        "sys.stdin.readline()\n"
        "print(os.pread(fd, 1 << 20, 0).hex(), m[:].hex(), flush=True)\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    return proc


def test_a_notebooks_open_or_mapped_old_file_keeps_its_bytes(tmp_path: Path, taking):
    root = _first_run(tmp_path)
    old = root / "02_chain_step" / "chain_02"
    held, mapped = old / "sys_d3_0003.json", old / "sys_d3_0007.json"
    held_bytes, mapped_bytes = held.read_bytes(), mapped.read_bytes()
    old_inodes = _inodes(old)
    notebook = _notebook(held, mapped)
    try:
        done = cli("run", "-e", "x", "--set", "stages.02.offset=1.5", "--force", cwd=tmp_path)
        assert done.returncode == 0, done.stdout + done.stderr
        assert notebook.stdin is not None and notebook.stdout is not None
        notebook.stdin.write("read\n")
        notebook.stdin.flush()
        now_held, now_mapped = notebook.stdout.readline().split()
    finally:
        notebook.kill()
        notebook.wait(10)
    assert bytes.fromhex(now_held) == held_bytes
    assert bytes.fromhex(now_mapped) == mapped_bytes
    # stage 03 (as many files as the old 02 folder) took over all the others, never those
    taken = {os.stat(p).st_ino for p in (root / "03_chain_step").rglob("*") if p.is_file()}
    held_inodes = {ino for ino, name in old_inodes.items() if name in (held.name, mapped.name)}
    assert set(old_inodes) - held_inodes <= taken
    assert not held_inodes & taken
    assert not (root / TRASH_DIR).exists()


def test_the_outputs_of_a_rerun_through_spares_equal_a_fresh_run(tmp_path: Path):
    root = _first_run(tmp_path)
    done = cli("run", "-e", "x", "--set", "stages.02.offset=2.5", "--force", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert outputs(root) == _fresh_outputs(tmp_path / "ref", 2.5)
    assert not (root / TRASH_DIR).exists()


def test_a_kill_while_a_taken_over_file_is_written_publishes_nothing(tmp_path: Path, taking):
    root = _first_run(tmp_path)
    old_02 = _inodes(root / "02_chain_step" / "chain_02")
    good = tree(root)
    rerun = ("run", "-e", "x", "--set", "stages.02.offset=1.5", "--force")
    where = f"*/.03_chain_step.partial/chain_03/sys_d3_{SYSTEMS - 1:04d}.json"
    done = cli(*rerun, cwd=tmp_path, fault=f"kill:{where}")  # the stage process is killed
    assert done.returncode == 3 and "without writing its stage_summary.json" in done.stderr
    partial = root / ".03_chain_step.partial" / "chain_03"
    assert set(_inodes(partial)) & set(old_02)  # it was writing over spares of old 02
    assert {p: h for p, h in tree(root).items() if p.startswith("03_")} == {
        p: h for p, h in good.items() if p.startswith("03_")
    }  # stage 03's published folder is intact
    assert not (root / TRASH_DIR).exists()  # the command itself lived on: no trash left
    done = cli(*rerun, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "removed .03_chain_step.partial (left by an interrupted command)" in done.stdout
    assert leftovers(root) == [] and not (root / TRASH_DIR).exists()
    assert outputs(root) == _fresh_outputs(tmp_path / "ref", 1.5)
