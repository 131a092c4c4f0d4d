"""Data-only encoding of the values that travel between the grader and a sandbox worker.

Only data crosses: None, bools, numbers, strings, bytes, lists, tuples, dicts,
NumPy arrays and scalars of plain dtypes, and PyTorch tensors. Anything else the
worker holds (a class instance, a generator, a module) crosses as a
``RemoteRef``: an id, a type name and a short text, with no behaviour attached.
Decoding never imports, calls or unpickles anything named by the message.

msgpack does the byte-level work: it is fast, it has no notion of executable
payloads, and its extension types let arrays travel as raw buffers. The grading
process decodes what a worker sends, and a worker runs student code, so every
message is treated as hostile: before msgpack builds a single object, ``measure``
walks the bytes once, without recursion, and refuses a message that would nest
deeper than ``MAX_DEPTH`` or make more than ``MAX_ITEMS`` objects. Extension
payloads are fixed binary layouts read with ``struct``, never msgpack again, so
decoding never re-enters the decoder however the message nests. A tuple is an
array whose first element is an empty marker extension.
"""

from __future__ import annotations

import math
import re
import struct
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import msgpack
import numpy as np

_EXT_NDARRAY = 1
_EXT_TENSOR = 2
_EXT_TUPLE = 3  # an empty payload, first element of an array that decodes as a tuple
_EXT_NPSCALAR = 4
_EXT_REF = 5
_EXT_COMPLEX = 6
_EXT_BIGINT = 7
_KNOWN_EXT = frozenset({_EXT_NDARRAY, _EXT_TENSOR, _EXT_TUPLE, _EXT_NPSCALAR, _EXT_REF, _EXT_COMPLEX, _EXT_BIGINT})

# Plain, fixed-size or string dtypes with an explicit byte order; never
# objects, records or anything np.dtype could interpret in a richer way.
_SAFE_DTYPE = re.compile(r"^[<>|=]?(b1|[iu][1248]|f[248]|c(8|16)|[US]\d{1,6})$")
# torch dtype name -> bytes per element
_TORCH_DTYPES = {
    "bool": 1, "uint8": 1, "int8": 1, "int16": 2, "int32": 4, "int64": 8,
    "float16": 2, "bfloat16": 2, "float32": 4, "float64": 8, "complex64": 8, "complex128": 16,
}
# The torch dtypes NumPy has too (all but bfloat16), by name, as NumPy dtypes.
_NUMPY_OF_TORCH = {name: np.dtype(name) for name in _TORCH_DTYPES if name != "bfloat16"}
_MAX_NDIM = 32
TEXT_LIMIT = 200

# What one message may make the receiver build. Far above any honest value (a
# list of a million numbers, nesting 64 deep), far below what would hurt.
MAX_ITEMS = 1 << 20
MAX_DEPTH = 64

_U8, _U16, _U64 = struct.Struct(">B"), struct.Struct(">H"), struct.Struct(">Q")
_TWO_FLOATS = struct.Struct(">dd")


class DecodeError(ValueError):
    """The bytes are not a message this codec produces, or one too large to build."""


@dataclass(frozen=True)
class RemoteRef:
    """An object that stays in the worker; the grader only ever sees this."""

    id: int
    type_name: str
    text: str

    def __repr__(self) -> str:
        return f"<{self.type_name} object in the student's process>"


def type_name(obj: Any, own_modules: tuple[str, ...] = ()) -> str:
    """A readable name of obj's type: ``list``, ``numpy.ndarray``, ``torch.Tensor``.

    Types from own_modules (the student's module) are named without a prefix.
    """
    cls = type(obj)
    module = cls.__module__
    if module in ("builtins", "__main__", *own_modules) or module is None:
        name = cls.__qualname__
    else:
        name = f"{str(module).split('.')[0]}.{cls.__qualname__}"
    return cap(name)


def cap(text: str, limit: int = TEXT_LIMIT) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def short_text(obj: Any) -> str:
    try:
        text = repr(obj)
    except Exception:  # a student's __repr__ may raise anything
        text = f"<{type_name(obj)}>"
    return cap(text) if isinstance(text, str) else f"<{type_name(obj)}>"


class Encoder:
    """Turns values into message bytes.

    register: called with any object that is not data; returns the RemoteRef
        that stands for it. The worker passes its object table here; the grader
        passes nothing, and sending a non-data object from the grader is a bug.
    """

    def __init__(self, register: Callable[[Any], RemoteRef] | None = None) -> None:
        # One packer, kept for reuse (making one per message costs more than packing a small one).
        # Its hook does not refer back to the encoder: such a cycle would keep the packer's
        # buffer (100 KB and more) alive until the next full garbage collection.
        self._packer = msgpack.Packer(default=_Extensions(register), strict_types=True, use_bin_type=True)

    def encode(self, value: Any) -> bytes:
        return self._packer.pack(value)  # on an error msgpack empties the packer's buffer itself


_TUPLE_MARK = msgpack.ExtType(_EXT_TUPLE, b"")


def _text(value: str) -> bytes:
    data = value.encode()
    return _U8.pack(len(data)) + data


def _dims(shape: tuple[int, ...]) -> bytes:
    return _U8.pack(len(shape)) + b"".join(_U64.pack(n) for n in shape)


class _Extensions:
    """The packer's hook for what msgpack does not know: arrays, tensors, tuples, references."""

    def __init__(self, register: Callable[[Any], RemoteRef] | None) -> None:
        self._register = register

    def __call__(self, obj: Any) -> Any:
        if isinstance(obj, np.ndarray) and _SAFE_DTYPE.match(obj.dtype.str) and obj.ndim <= _MAX_NDIM:
            header = _text(obj.dtype.str) + _dims(obj.shape)
            return msgpack.ExtType(_EXT_NDARRAY, header + np.ascontiguousarray(obj).tobytes())
        if isinstance(obj, tuple):
            return [_TUPLE_MARK, *obj]  # packed by the same packer: nothing is re-entered
        if isinstance(obj, RemoteRef):
            name, text = obj.type_name.encode()[:1000], obj.text.encode()[:1000]
            payload = _U64.pack(obj.id) + _U16.pack(len(name)) + name + _U16.pack(len(text)) + text
            return msgpack.ExtType(_EXT_REF, payload)
        if isinstance(obj, np.generic) and _SAFE_DTYPE.match(obj.dtype.str):
            return msgpack.ExtType(_EXT_NPSCALAR, _text(obj.dtype.str) + obj.tobytes())
        if _is_tensor(obj):
            return self._tensor(obj)
        if isinstance(obj, complex):
            return msgpack.ExtType(_EXT_COMPLEX, _TWO_FLOATS.pack(obj.real, obj.imag))
        if isinstance(obj, bool):
            return bool(obj)
        if isinstance(obj, int):
            if -(2**63) <= obj < 2**64:
                return int(obj)
            digits = str(int(obj)) if abs(obj).bit_length() < 13000 else None
            if digits is not None:
                return msgpack.ExtType(_EXT_BIGINT, digits.encode())
        for base in (float, str, bytes, list, dict):
            if isinstance(obj, base):
                return base(obj)
        if self._register is None:
            raise TypeError(f"cannot send a {type_name(obj)} to the worker")
        return self(self._register(obj))

    def _tensor(self, t: Any) -> Any:
        torch = sys.modules["torch"]
        name = str(t.dtype).removeprefix("torch.")
        sendable = (name in _TORCH_DTYPES and t.layout == torch.strided and not t.is_quantized
                    and t.device.type != "meta" and t.dim() <= _MAX_NDIM)
        if not sendable:
            return self(self._register(t)) if self._register else _refuse(t)
        host = t if t.device.type == "cpu" and not t.requires_grad else t.detach().cpu()
        if host.is_conj() or host.is_neg():  # lazy views NumPy cannot hold: materialise them
            host = host.resolve_conj().resolve_neg()
        if name == "bfloat16":  # NumPy has no bfloat16: send its raw bytes
            data = host.contiguous().reshape(-1).view(torch.uint8).numpy().tobytes()
        else:
            data = host.numpy().tobytes()  # tobytes writes C order whatever the strides
        header = _text(name) + _dims(tuple(t.shape)) + _text(str(t.device)) + _U8.pack(bool(t.requires_grad))
        return msgpack.ExtType(_EXT_TENSOR, header + data)


def _refuse(obj: Any):
    raise TypeError(f"cannot send a {type_name(obj)} to the worker")


def _is_tensor(obj: Any) -> bool:
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(obj, torch.Tensor)


# --- measuring before building ---------------------------------------------------

# For each msgpack type byte that is neither a fixed-size scalar nor a container:
# how many bytes its length takes, and how many bytes follow beyond that length.
_LENGTH_PREFIXED = {
    0xC4: (1, 0), 0xC5: (2, 0), 0xC6: (4, 0),  # bin
    0xD9: (1, 0), 0xDA: (2, 0), 0xDB: (4, 0),  # str
    0xC7: (1, 1), 0xC8: (2, 1), 0xC9: (4, 1),  # ext: length, then the type byte
}
_FIXED = {0xCA: 4, 0xCB: 8, 0xCC: 1, 0xCD: 2, 0xCE: 4, 0xCF: 8, 0xD0: 1, 0xD1: 2, 0xD2: 4, 0xD3: 8}
_FIXEXT = {0xD4: 1, 0xD5: 2, 0xD6: 4, 0xD7: 8, 0xD8: 16}
_CONTAINERS = {0xDC: (2, 1), 0xDD: (4, 1), 0xDE: (2, 2), 0xDF: (4, 2)}  # length bytes, objects per entry


def measure(data: bytes | bytearray | memoryview) -> int:
    """The number of objects data would decode into; DecodeError if it breaks a bound or is malformed.

    One pass over the bytes with an explicit stack, so a hostile message costs
    the receiver time in proportion to its length and no recursion at all.
    """
    view = memoryview(data).cast("B")
    end = len(view)
    pos = items = 0
    remaining = [1]  # objects still to read, per open container
    first = [False]  # whether the next object is the first of an array (where a tuple's mark goes)
    while True:
        while remaining and remaining[-1] == 0:
            remaining.pop()
            first.pop()
        if not remaining:
            break
        remaining[-1] -= 1
        is_first, first[-1] = first[-1], False
        if pos >= end:
            raise DecodeError("a message that ends too early")
        byte = view[pos]
        pos += 1
        items += 1
        if items > MAX_ITEMS:
            raise DecodeError(f"a message of more than {MAX_ITEMS} values")
        count = per = 0
        if byte <= 0x7F or byte >= 0xE0 or byte in (0xC0, 0xC2, 0xC3):
            continue
        if byte <= 0x8F:
            count, per = byte & 0x0F, 2
        elif byte <= 0x9F:
            count, per = byte & 0x0F, 1
        elif byte <= 0xBF:
            pos += byte & 0x1F
        elif byte in _FIXED:
            pos += _FIXED[byte]
        elif byte in _LENGTH_PREFIXED:
            size, extra = _LENGTH_PREFIXED[byte]
            length = _read_length(view, pos, size, end)
            if extra:
                _check_ext(view, pos + size, is_first, end)
            pos += size + extra + length
        elif byte in _FIXEXT:
            _check_ext(view, pos, is_first, end)
            pos += 1 + _FIXEXT[byte]
        elif byte in _CONTAINERS:
            size, per = _CONTAINERS[byte]
            count = _read_length(view, pos, size, end)
            pos += size
        else:
            raise DecodeError(f"malformed message: type byte 0x{byte:02x}")
        if count:
            if len(remaining) > MAX_DEPTH:
                raise DecodeError(f"a message nested more than {MAX_DEPTH} levels deep")
            if count * per > end - pos:  # every object takes at least a byte
                raise DecodeError("a message that ends too early")
            remaining.append(count * per)
            first.append(per == 1)
    if pos != end:
        raise DecodeError("malformed message: bytes after its end")
    return items


def _read_length(view: memoryview, pos: int, size: int, end: int) -> int:
    if pos + size > end:
        raise DecodeError("a message that ends too early")
    return int.from_bytes(view[pos:pos + size], "big")


def _check_ext(view: memoryview, pos: int, is_first: bool, end: int) -> None:
    if pos >= end:
        raise DecodeError("a message that ends too early")
    code = view[pos]
    if code not in _KNOWN_EXT:
        raise DecodeError(f"unknown extension type {code}")
    if code == _EXT_TUPLE and not is_first:
        raise DecodeError("a tuple mark out of place")


# --- building -------------------------------------------------------------------

_MARK = object()


class Decoder:
    """Turns message bytes back into values, accepting nothing but data.

    resolve: maps a RemoteRef to what the receiving side uses for it. The worker
        looks the id up in its object table; the grader keeps the RemoteRef.
    """

    def __init__(self, resolve: Callable[[RemoteRef], Any] | None = None) -> None:
        self._resolve = resolve

    def decode(self, data: bytes) -> Any:
        measure(data)
        try:
            return msgpack.unpackb(data, ext_hook=self._ext, list_hook=_tuples, raw=False,
                                   strict_map_key=False)
        except DecodeError:
            raise
        except Exception as exc:  # msgpack raises several types for malformed input
            raise DecodeError(f"malformed message: {type(exc).__name__}") from None

    def _ext(self, code: int, payload: bytes) -> Any:
        reader = _Reader(payload)
        if code == _EXT_TUPLE:
            reader.done()
            return _MARK
        if code == _EXT_NDARRAY:
            dtype, dims = reader.text(), reader.dims()
            return _array(dtype, dims, reader.rest())
        if code == _EXT_NPSCALAR:
            dtype = reader.text()
            return _array(dtype, (), reader.rest())[()]
        if code == _EXT_TENSOR:
            name, dims, device, requires_grad = reader.text(), reader.dims(), reader.text(), reader.byte()
            return _tensor(name, dims, device, requires_grad == 1, reader.rest())
        if code == _EXT_COMPLEX:
            real, imag = reader.take_struct(_TWO_FLOATS)
            reader.done()
            return complex(real, imag)
        if code == _EXT_BIGINT:
            text = reader.rest()
            if not re.fullmatch(rb"-?\d{1,4000}", text):
                raise DecodeError("bad integer")
            return int(text)
        if code == _EXT_REF:
            (ref_id,) = reader.take_struct(_U64)
            name, text = reader.long_text(), reader.long_text()
            reader.done()
            ref = RemoteRef(ref_id, cap(name), cap(text))
            return self._resolve(ref) if self._resolve else ref
        raise DecodeError(f"unknown extension type {code}")


def _tuples(items: list) -> Any:
    if items and items[0] is _MARK:
        return tuple(items[1:])
    return items


class _Reader:
    """Reads an extension's fixed binary layout, refusing anything short, long or malformed."""

    def __init__(self, payload: bytes) -> None:
        self.payload = payload
        self.pos = 0

    def take(self, size: int) -> bytes:
        if self.pos + size > len(self.payload):
            raise DecodeError("bad extension payload")
        data = self.payload[self.pos:self.pos + size]
        self.pos += size
        return data

    def take_struct(self, layout: struct.Struct) -> tuple:
        return layout.unpack(self.take(layout.size))

    def byte(self) -> int:
        return self.take_struct(_U8)[0]

    def text(self) -> str:
        return self._decode(self.take(self.byte()))

    def long_text(self) -> str:
        return self._decode(self.take(self.take_struct(_U16)[0]))

    def dims(self) -> tuple[int, ...]:
        ndim = self.byte()
        if ndim > _MAX_NDIM:
            raise DecodeError("bad shape")
        dims = tuple(self.take_struct(_U64)[0] for _ in range(ndim))
        if any(n >= 2**40 for n in dims):
            raise DecodeError("bad shape")
        return dims

    def rest(self) -> bytes:
        data = self.payload[self.pos:]
        self.pos = len(self.payload)
        return data

    def done(self) -> None:
        if self.pos != len(self.payload):
            raise DecodeError("bad extension payload")

    @staticmethod
    def _decode(data: bytes) -> str:
        try:
            return data.decode()
        except UnicodeDecodeError:
            raise DecodeError("bad text in an extension") from None


def _array(dtype: str, dims: tuple[int, ...], data: bytes) -> np.ndarray:
    if not _SAFE_DTYPE.match(dtype):
        raise DecodeError("bad array")
    dt = np.dtype(dtype)
    if math.prod(dims) * dt.itemsize != len(data):
        raise DecodeError("array size does not match its data")
    # A bytearray makes the array writable: the receiver may hand it to code
    # that writes into it (that is how input mutation is detected).
    return np.frombuffer(bytearray(data), dtype=dt).reshape(dims)


def _tensor(name: str, dims: tuple[int, ...], device: str, requires_grad: bool, data: bytes):
    import torch

    if name not in _TORCH_DTYPES:
        raise DecodeError("bad tensor")
    dtype = getattr(torch, name)
    count = math.prod(dims)
    if count * _TORCH_DTYPES[name] != len(data):
        raise DecodeError("tensor size does not match its data")
    if count == 0:
        tensor = torch.empty(dims, dtype=dtype)
    elif name in _NUMPY_OF_TORCH:  # through NumPy: a third of the cost of torch.frombuffer(...).reshape(...)
        tensor = torch.from_numpy(np.frombuffer(bytearray(data), dtype=_NUMPY_OF_TORCH[name]).reshape(dims))
    else:
        tensor = torch.frombuffer(bytearray(data), dtype=dtype).reshape(dims)
    target = _usable_device(torch, device)
    if target != "cpu":
        tensor = tensor.to(target)
    if requires_grad and (tensor.is_floating_point() or tensor.is_complex()):
        tensor.requires_grad_(True)
    return tensor


def _usable_device(torch, device: str) -> str:
    if device == "cpu":
        return device
    if not re.fullmatch(r"(cpu|cuda|mps)(:\d{1,2})?", device):
        raise DecodeError("bad device")
    if device.startswith("cuda") and torch.cuda.is_available():
        return device
    if device.startswith("mps") and getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
        return device
    return "cpu"
