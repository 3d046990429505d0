"""A small reader for IDX files (the MNIST / Fashion-MNIST format), gzipped or raw.

Layout (http://yann.lecun.com/exdb/mnist/): a 4-byte magic number ``00 00 TT DD`` where ``TT`` is
the element type (0x08 = uint8, ...) and ``DD`` the number of dimensions; then ``DD`` big-endian
uint32 sizes; then the elements, big-endian, row-major. A file whose name ends in ``.gz`` is
gunzipped first.

Every defect (bad magic, unknown type, data size not matching the header, gzip CRC error or
truncation) raises `DataError` with one line that names the file and the problem.
"""
from __future__ import annotations

import gzip
import math
import os
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import DataError

# IDX element type code -> (numpy big-endian dtype, name)
IDX_DTYPES: dict[int, tuple[str, str]] = {
    0x08: (">u1", "uint8"),
    0x09: (">i1", "int8"),
    0x0B: (">i2", "int16"),
    0x0C: (">i4", "int32"),
    0x0D: (">f4", "float32"),
    0x0E: (">f8", "float64"),
}


_NUMPY_DTYPE = {name: np_name for np_name, name in IDX_DTYPES.values()}  # "uint8" -> ">u1"


@dataclass(frozen=True)
class IdxHeader:
    dtype: str  # "uint8", ...
    shape: tuple[int, ...]
    header_bytes: int  # 4 + 4 * ndim

    @property
    def data_bytes(self) -> int:
        # Python ints: a corrupt header with huge dims must not overflow into a plausible size
        return math.prod(self.shape) * np.dtype(_NUMPY_DTYPE[self.dtype]).itemsize


def _is_gz(path: Path) -> bool:
    return path.name.endswith(".gz")


def parse_header(buf: bytes, path: str | os.PathLike) -> IdxHeader:
    """Parse the magic number and dims at the start of `buf` (the decompressed file)."""
    if len(buf) < 4:
        raise DataError(f"{path}: truncated IDX file ({len(buf)} bytes, no complete magic number)")
    z0, z1, code, ndim = buf[0], buf[1], buf[2], buf[3]
    if z0 != 0 or z1 != 0:
        raise DataError(
            f"{path}: bad IDX magic number 0x{buf[:4].hex()} (must start with two zero bytes); "
            "not an IDX file, or a gzipped file without the .gz suffix"
        )
    if code not in IDX_DTYPES:
        valid = ", ".join(f"0x{c:02X}" for c in IDX_DTYPES)
        raise DataError(f"{path}: unsupported IDX element type 0x{code:02X} (valid: {valid})")
    if ndim == 0:
        raise DataError(f"{path}: IDX header declares 0 dimensions")
    header_bytes = 4 + 4 * ndim
    if len(buf) < header_bytes:
        raise DataError(f"{path}: truncated IDX header ({len(buf)} bytes, header needs {header_bytes})")
    shape = struct.unpack(f">{ndim}I", buf[4:header_bytes])
    return IdxHeader(dtype=IDX_DTYPES[code][1], shape=tuple(int(s) for s in shape), header_bytes=header_bytes)


def _read_all(path: Path) -> bytes:
    try:
        if _is_gz(path):
            with gzip.open(path, "rb") as f:
                return f.read()
        return path.read_bytes()
    except FileNotFoundError:
        raise DataError(f"{path}: file not found") from None
    except EOFError as e:  # gzip stream cut short
        raise DataError(f"{path}: truncated gzip file ({e})") from None
    except (gzip.BadGzipFile, zlib.error) as e:  # CRC / length check, bad header, bad deflate data
        raise DataError(f"{path}: corrupt gzip file ({e})") from None
    except OSError as e:
        raise DataError(f"{path}: cannot read ({e.strerror or e})") from None


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read a whole IDX file (``.gz`` is decompressed) into a native-endian numpy array.

    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "x-idx1-ubyte"
    >>> _ = p.write_bytes(bytes([0, 0, 8, 1, 0, 0, 0, 3, 7, 8, 9]))
    >>> read_idx(p).tolist()
    [7, 8, 9]
    """
    path = Path(path)
    buf = _read_all(path)
    header = parse_header(buf, path)
    got = len(buf) - header.header_bytes
    want = header.data_bytes
    if got != want:
        what = "truncated" if got < want else "has trailing bytes"
        raise DataError(
            f"{path}: {what}: header says shape {list(header.shape)} {header.dtype} "
            f"= {want} data bytes, file has {got}"
        )
    arr = np.frombuffer(buf, dtype=_NUMPY_DTYPE[header.dtype], offset=header.header_bytes)
    return arr.astype(arr.dtype.newbyteorder("="), copy=True).reshape(header.shape)


def read_idx_header(path: str | os.PathLike) -> IdxHeader:
    """Read only the header and check the size cheaply, without decoding the data.

    A raw file's size must equal header + data. For ``.gz`` the uncompressed size recorded in the
    gzip trailer (ISIZE, size mod 2**32) must match, which catches most truncations; the CRC is only
    verified by `read_idx`.
    """
    path = Path(path)
    try:
        if _is_gz(path):
            with gzip.open(path, "rb") as f:
                head = f.read(4)
                if len(head) == 4 and head[3] > 0:
                    head += f.read(4 * head[3])
            total = _gzip_isize(path)
        else:
            with open(path, "rb") as f:
                head = f.read(4)
                if len(head) == 4 and head[3] > 0:
                    head += f.read(4 * head[3])
            total = path.stat().st_size
    except FileNotFoundError:
        raise DataError(f"{path}: file not found") from None
    except EOFError as e:
        raise DataError(f"{path}: truncated gzip file ({e})") from None
    except (gzip.BadGzipFile, zlib.error) as e:
        raise DataError(f"{path}: corrupt gzip file ({e})") from None
    except OSError as e:
        raise DataError(f"{path}: cannot read ({e.strerror or e})") from None
    header = parse_header(head, path)
    want = header.header_bytes + header.data_bytes
    if _is_gz(path):
        if total != want % 2**32:
            raise DataError(
                f"{path}: gzip trailer says {total} uncompressed bytes, header shape {list(header.shape)} "
                f"needs {want}; truncated or corrupt"
            )
    elif total != want:
        what = "truncated" if total < want else "has trailing bytes"
        raise DataError(
            f"{path}: {what}: header shape {list(header.shape)} {header.dtype} needs {want} bytes, file has {total}"
        )
    return header


def _gzip_isize(path: Path) -> int:
    with open(path, "rb") as f:
        f.seek(0, os.SEEK_END)
        if f.tell() < 18:  # 10-byte header + 8-byte trailer
            raise DataError(f"{path}: truncated gzip file ({f.tell()} bytes)")
        f.seek(-4, os.SEEK_END)
        return struct.unpack("<I", f.read(4))[0]


def write_idx(path: str | os.PathLike, array: np.ndarray) -> Path:
    """Write `array` as an IDX file (gzipped if the name ends in ``.gz``); used by tests and tools."""
    path = Path(path)
    array = np.asarray(array)
    codes = {np.dtype(v[0]).newbyteorder("="): k for k, v in IDX_DTYPES.items()}
    code = codes.get(array.dtype.newbyteorder("="))
    if code is None:
        raise DataError(f"{path}: cannot write dtype {array.dtype} as IDX")
    be = array.astype(array.dtype.newbyteorder(">"), copy=False)
    buf = bytes([0, 0, code, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape) + be.tobytes()
    if _is_gz(path):
        buf = gzip.compress(buf, mtime=0)
    from ..io import write_bytes

    return write_bytes(path, buf)
