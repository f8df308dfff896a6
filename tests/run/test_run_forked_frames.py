"""Frames between a forked process and its parent (holopipe.run.forked)."""

from __future__ import annotations

import os
import threading

import pytest

from holopipe.run.forked import read_frame, send_frame


@pytest.fixture
def pipe():
    ends = os.pipe()
    yield ends
    for fd in ends:
        try:
            os.close(fd)
        except OSError:
            pass


def test_frame_larger_than_the_pipe_arrives_whole(pipe):
    read_end, write_end = pipe
    data = bytes(range(256)) * 4096  # 1 MiB: many times what a pipe holds
    writer = threading.Thread(target=send_frame, args=(write_end, data))
    writer.start()
    assert read_frame(read_end) == data
    writer.join()


def test_two_frames_are_read_one_at_a_time(pipe):
    read_end, write_end = pipe
    send_frame(write_end, b"first")
    send_frame(write_end, b"")
    send_frame(write_end, b"third")
    assert [read_frame(read_end) for _ in range(3)] == [b"first", b"", b"third"]


def test_frame_cut_short_is_none(pipe):
    read_end, write_end = pipe
    os.write(write_end, (10).to_bytes(8, "big") + b"four")  # 4 of the 10 bytes announced
    os.close(write_end)
    assert read_frame(read_end) is None


def test_length_cut_short_is_none(pipe):
    read_end, write_end = pipe
    os.write(write_end, b"\x00\x00\x00")
    os.close(write_end)
    assert read_frame(read_end) is None


def test_reads_no_further_than_the_frame(pipe):
    # the writer's end stays open (a forked worker holding it): the frame is still read
    read_end, write_end = pipe
    send_frame(write_end, b"done")
    assert read_frame(read_end) == b"done"


def test_reader_gone_is_oserror(pipe):
    read_end, write_end = pipe
    os.close(read_end)
    with pytest.raises(OSError):
        send_frame(write_end, b"nobody reads this")
