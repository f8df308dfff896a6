"""``.npy`` headers read without numpy's parser for the form numpy writes: shape, dtype, order.

numpy's own reader compiles each header as Python (``ast.literal_eval``), most of the time
of reading a small array. The header numpy writes is read here with a regular expression;
any other header (structured dtypes, datetimes, Python 2 files, hand-made, damaged) still
goes to numpy's parser, and every failure of either is a :class:`CorruptNpy`. A header
declaring more than numpy's 10 000-byte limit is refused before it is read.

Two readers share the parse: :func:`read_npy_header` from a stream (left at the data) and
:func:`npy_header_at` from bytes already in memory (a member of an NPZ read whole); on the
same bytes they give the same header or the same error (tests/hostile/test_files_npy_headers.py).

Examples
--------
>>> import io
>>> import numpy as np
>>> buffer = io.BytesIO()
>>> np.save(buffer, np.zeros((2, 3)))
>>> header, data_at = npy_header_at(buffer.getvalue())
>>> header.describe(), data_at
('shape (2, 3) float64', 128)
"""

from __future__ import annotations

import io
import math
import re
from typing import IO, TYPE_CHECKING

if TYPE_CHECKING:  # numpy is imported where a header is parsed (start-up time)
    import numpy as np

__all__ = ["CorruptNpy", "NotNpy", "NpyHeader", "npy_header_at", "read_npy_header"]


class NpyHeader:
    """What a ``.npy`` header declares: shape, dtype and memory order."""

    __slots__ = ("count", "dtype", "fortran_order", "nbytes", "shape")

    def __init__(self, shape: tuple[int, ...], dtype: np.dtype, fortran_order: bool) -> None:
        self.shape = shape
        self.dtype = dtype
        self.fortran_order = fortran_order
        #: Elements the shape declares.
        self.count = math.prod(shape)
        #: Bytes the data would take (exact integers: no overflow for absurd shapes).
        self.nbytes = self.count * dtype.itemsize

    def describe(self) -> str:
        return f"shape {self.shape} {self.dtype}"


class NotNpy(ValueError):
    """The stream does not start with the ``.npy`` magic string."""


class CorruptNpy(ValueError):
    """The ``.npy`` header cannot be parsed."""


_MAGIC = b"\x93NUMPY"
#: The header numpy writes (``numpy.lib.format.write_array_header``): a dict literal in
#: exactly this form, padded with spaces. It is read with this expression; any other header
#: (structured dtypes, Python 2 files, hand-made ones) goes to numpy's own parser.
_CANONICAL_HEADER = re.compile(
    r"\{'descr': '([<>|=][a-zA-Z][0-9]*)', 'fortran_order': (True|False), "
    r"'shape': \((|[0-9]+,|[0-9]+(?:, [0-9]+)+)\), \} *\n"
)
#: numpy refuses longer headers as unsafe to parse (``max_header_size``); so does this.
_MAX_HEADER_SIZE = 10_000
#: Per ``.npy`` format version: the size of its header length field, its header encoding.
_VERSIONS = {(1, 0): (2, "latin-1"), (2, 0): (4, "latin-1"), (3, 0): (4, "utf-8")}
#: dtypes by the ``descr`` text of a canonical header (a few per run: ``np.dtype`` of a
#: string costs more than a dict look-up).
_DTYPES: dict[str, np.dtype] = {}


def read_npy_header(fh: IO[bytes]) -> NpyHeader:
    """Parse a ``.npy`` header from ``fh`` (left at the start of the data).

    numpy's parser raises a different exception for the same damage on each Python
    (``ValueError``, ``SyntaxError``, ``tokenize.TokenError`` on 3.12+, ...): every failure
    becomes :class:`CorruptNpy`; a stream that is not ``.npy`` at all is :class:`NotNpy`.

    Examples
    --------
    >>> import io
    >>> import numpy as np
    >>> buffer = io.BytesIO()
    >>> np.save(buffer, np.zeros((2, 3)))
    >>> _ = buffer.seek(0)
    >>> read_npy_header(buffer).describe()
    'shape (2, 3) float64'
    """
    if fh.read(6) != _MAGIC:
        raise NotNpy("not a .npy array")
    version = tuple(fh.read(2))
    length_bytes, encoding = _format_of(version)
    raw_length = fh.read(length_bytes)
    length = _header_length(raw_length)
    raw = fh.read(length)
    if len(raw_length) != length_bytes or len(raw) != length:
        raise CorruptNpy("corrupt .npy header (cut short)")
    return _parse(raw, encoding)


def npy_header_at(data: bytes | memoryview) -> tuple[NpyHeader, int]:
    """The header at the start of ``data`` and where its array data start: the same
    answer, or the same error, as :func:`read_npy_header` on a stream of those bytes."""
    if data[:6] != _MAGIC:
        raise NotNpy("not a .npy array")
    version = tuple(data[6:8])
    length_bytes, encoding = _format_of(version)
    at = 8 + length_bytes
    raw_length = bytes(data[8:at])
    length = _header_length(raw_length)
    raw = bytes(data[at : at + length])
    if len(raw_length) != length_bytes or len(raw) != length:
        raise CorruptNpy("corrupt .npy header (cut short)")
    return _parse(raw, encoding), at + length


def _format_of(version: tuple[int, ...]) -> tuple[int, str]:
    if version not in _VERSIONS:
        raise CorruptNpy(f"corrupt .npy header (format version {version!r})")
    return _VERSIONS[version]  # type: ignore[index]


def _header_length(raw_length: bytes) -> int:
    length = int.from_bytes(raw_length, "little")
    if length > _MAX_HEADER_SIZE:
        raise CorruptNpy(f"corrupt .npy header (declares a {length}-byte header)")
    return length


def _parse(raw: bytes, encoding: str) -> NpyHeader:
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError:
        raise CorruptNpy("corrupt .npy header (not utf-8)") from None
    match = _CANONICAL_HEADER.fullmatch(text)
    if match is None:
        return _numpy_header(text)
    descr, fortran, dims = match.groups()
    dtype = _DTYPES.get(descr)
    if dtype is None:
        import numpy as np

        try:
            dtype = np.dtype(descr)
        except TypeError as exc:
            raise CorruptNpy(f"corrupt .npy header (descr {descr!r}: {exc})") from None
        if len(_DTYPES) < 256:
            _DTYPES[descr] = dtype
    shape = tuple(int(n) for n in dims.split(",") if n.strip())
    return NpyHeader(shape, dtype, fortran == "True")


def _numpy_header(text: str) -> NpyHeader:
    """numpy's parser on a header text that is not in numpy's own form."""
    import numpy as np

    try:
        body = text.encode("latin-1")  # a 1.0 header (at most 10 000 bytes: it fits)
        stream = io.BytesIO(len(body).to_bytes(2, "little") + body)
        shape, fortran_order, dtype = np.lib.format.read_array_header_1_0(stream)
    except Exception as exc:  # noqa: BLE001 - any parser failure is damage, see read_npy_header
        raise CorruptNpy(f"corrupt .npy header ({type(exc).__name__}: {exc})") from None
    if not all(isinstance(n, int) and n >= 0 for n in shape):
        raise CorruptNpy(f"corrupt .npy header (shape {shape!r})")
    return NpyHeader(tuple(shape), np.dtype(dtype), bool(fortran_order))
