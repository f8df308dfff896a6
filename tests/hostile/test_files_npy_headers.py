""".npy headers: the fast reader of numpy's own header form agrees with numpy's parser on
every header numpy writes, and every other header (damaged, hand-made, foreign) is judged
by numpy's parser exactly as before: a CorruptNpy, never another exception."""

from __future__ import annotations

import io
import struct

import numpy as np
import pytest

from holopipe.artifacts import npy_header
from holopipe.artifacts.safety import CorruptNpy, NotNpy, read_npy_header

ARRAYS = [
    np.zeros(400),
    np.zeros(0),
    np.array(3.5),
    np.array("x" * 6916),
    np.zeros((3, 4), dtype="<i8"),
    np.asfortranarray(np.zeros((3, 4))),
    np.zeros(5, dtype=">f4"),
    np.zeros(2, dtype="|b1"),
    np.zeros(2, dtype="<c16"),
    np.zeros(2, dtype="|S7"),
    np.zeros(2, dtype="u1"),
    np.zeros((2, 0, 3), dtype="<f2"),
    np.zeros(2, dtype="<M8[ns]"),  # brackets: numpy's parser
    np.zeros(2, dtype=[("a", "<f8"), ("b", "<i4")]),  # a structured dtype: numpy's parser
]


def npy(array: np.ndarray, version: tuple[int, int] | None = None) -> io.BytesIO:
    buffer = io.BytesIO()
    if version is None:
        np.save(buffer, array)
    else:
        np.lib.format.write_array(buffer, array, version=version)
    buffer.seek(0)
    return buffer


@pytest.mark.parametrize("version", [None, (1, 0), (2, 0), (3, 0)])
@pytest.mark.parametrize("array", ARRAYS, ids=lambda a: f"{a.dtype.str}{a.shape}")
def test_the_fast_reader_agrees_with_numpy(array, version):
    buffer = npy(array, version)
    header = read_npy_header(buffer)
    data = buffer.read()
    loaded = np.load(npy(array, version), allow_pickle=False)
    fortran = loaded.flags.f_contiguous and not loaded.flags.c_contiguous
    assert (header.shape, header.dtype, header.fortran_order) == (
        loaded.shape,
        loaded.dtype,
        fortran,
    )
    assert len(data) == loaded.nbytes  # left at the start of the data


def test_numpy_s_own_header_form_is_read_without_numpy_s_parser(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("numpy's parser was used for a header numpy writes")

    monkeypatch.setattr(np.lib.format, "read_array_header_1_0", refuse)
    for array in ARRAYS[:12]:
        assert read_npy_header(npy(array)).shape == array.shape


def header_of(text: str, version: bytes = b"\x01\x00") -> io.BytesIO:
    body = text.encode("latin-1")
    size = struct.pack("<H" if version == b"\x01\x00" else "<I", len(body))
    return io.BytesIO(b"\x93NUMPY" + version + size + body)


@pytest.mark.parametrize(
    "text",
    [
        "{'descr': '<f8', 'fortran_order': False, 'shape': (-1,), }\n",
        "{'descr': '<f8', 'fortran_order': False, 'shape': (1.5,), }\n",
        "{'descr': '<q9', 'fortran_order': False, 'shape': (3,), }\n",
        "{'descr': '<f8', 'fortran_order': 'no', 'shape': (3,), }\n",
        "{'descr': '<f8', 'shape': (3,), }\n",
        "{'descr': '<f8', 'fortran_order': False, 'shape': (3,), 'x': 1}\n",
        "[1, 2, 3]\n",
        "{'descr': '<f8', 'fortran_order': False, 'shape': (3,\n",
        "__import__('os').system('true')\n",
        "",
    ],
)
def test_a_bad_header_is_corrupt_npy(text):
    with pytest.raises(CorruptNpy):
        read_npy_header(header_of(text))


def test_a_header_over_numpy_s_size_limit_is_refused_unread():
    stream = header_of("{" + " " * 20_000 + "}\n", b"\x02\x00")
    with pytest.raises(CorruptNpy, match="20003-byte header"):
        read_npy_header(stream)
    assert stream.tell() == 12  # magic, version, length: the header itself is not read


@pytest.mark.parametrize("cut", [6, 7, 8, 9, 20])
def test_a_header_cut_short_is_corrupt_npy(cut):
    data = npy(np.zeros(3)).getvalue()[:cut]
    with pytest.raises(CorruptNpy):
        read_npy_header(io.BytesIO(data))


def test_not_npy():
    with pytest.raises(NotNpy):
        read_npy_header(io.BytesIO(b"PK\x03\x04 not an array"))


def test_the_canonical_form_is_the_one_numpy_writes():
    # The pattern describes numpy's writer: if numpy changes its header format, the fast
    # path stops matching (numpy's parser takes over, slower) and this test says so.
    data = npy(np.zeros((2, 3))).getvalue()
    length = struct.unpack("<H", data[8:10])[0]
    assert npy_header._CANONICAL_HEADER.fullmatch(data[10 : 10 + length].decode("latin-1"))
