"""Data-only encoding of the messages between the grader and a sandbox worker.

Only data crosses: None, bools, numbers, strings, bytes, lists, tuples, dicts,
NumPy arrays and scalars of plain dtypes, and PyTorch tensors. Anything else the
worker holds (a class instance, a generator, a module) crosses as a
``RemoteRef``: an id, a type name and a short text, with no behaviour attached.
Decoding never imports, calls or unpickles anything named by the message.

msgpack does the byte-level work: it is fast, it has no notion of executable
payloads, and its extension types let arrays travel as raw buffers.
"""

from __future__ import annotations

import math
import re
import struct
import sys
from dataclasses import dataclass
from typing import Any, Callable

import msgpack
import numpy as np

_EXT_NDARRAY = 1
_EXT_TENSOR = 2
_EXT_TUPLE = 3
_EXT_NPSCALAR = 4
_EXT_REF = 5
_EXT_COMPLEX = 6
_EXT_BIGINT = 7

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
_TEXT_LIMIT = 200

MAX_FRAME = 256 * 1024 * 1024
_HEADER = struct.Struct(">I")


class DecodeError(ValueError):
    """The bytes are not a message this codec produces."""


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
        return cls.__qualname__
    top = module.split(".")[0]
    return f"{top}.{cls.__qualname__}"


def short_text(obj: Any) -> str:
    try:
        text = repr(obj)
    except Exception:  # a student's __repr__ may raise anything
        text = f"<{type_name(obj)}>"
    return text if len(text) <= _TEXT_LIMIT else text[: _TEXT_LIMIT - 3] + "..."


class Encoder:
    """Turns values into message bytes.

    register: called with any object that is not data; returns the RemoteRef
        that stands for it. The worker passes its object table here; the grader
        passes nothing, and sending a non-data object from the grader is a bug.
    """

    def __init__(self, register: Callable[[Any], RemoteRef] | None = None) -> None:
        # One packer, kept for reuse (making one per message costs more than packing a small one).
        # Its hook does not refer back to the encoder: such a cycle would keep the packers'
        # buffers (100 KB and more each) alive until the next full garbage collection.
        self._packer = msgpack.Packer(default=_Extensions(register), strict_types=True, use_bin_type=True)

    def encode(self, value: Any) -> bytes:
        return self._packer.pack(value)  # on an error msgpack empties the packer's buffer itself


class _Extensions:
    """The packer's hook for what msgpack does not know: arrays, tensors, tuples, references.

    Its own packer is never re-entered: an extension's payload other than a tuple's has no
    extensions inside, and a tuple's payload, which may, is packed by a packer of its own.
    """

    def __init__(self, register: Callable[[Any], RemoteRef] | None) -> None:
        self._register = register
        self._plain = msgpack.Packer(use_bin_type=True)

    def __call__(self, obj: Any) -> Any:
        if isinstance(obj, np.ndarray) and _SAFE_DTYPE.match(obj.dtype.str):
            data = np.ascontiguousarray(obj).tobytes()
            return msgpack.ExtType(_EXT_NDARRAY, self._plain.pack([obj.dtype.str, list(obj.shape), data]))
        if isinstance(obj, tuple):
            payload = msgpack.packb(list(obj), default=self, strict_types=True, use_bin_type=True)
            return msgpack.ExtType(_EXT_TUPLE, payload)
        if isinstance(obj, RemoteRef):
            return msgpack.ExtType(_EXT_REF, self._plain.pack([obj.id, obj.type_name, obj.text]))
        if isinstance(obj, np.generic) and _SAFE_DTYPE.match(obj.dtype.str):
            return msgpack.ExtType(_EXT_NPSCALAR, self._plain.pack([obj.dtype.str, obj.tobytes()]))
        if _is_tensor(obj):
            return self._tensor(obj)
        if isinstance(obj, complex):
            return msgpack.ExtType(_EXT_COMPLEX, self._plain.pack([obj.real, obj.imag]))
        if isinstance(obj, bool):
            return bool(obj)
        if isinstance(obj, int):
            if -(2**63) <= obj < 2**64:
                return int(obj)
            return msgpack.ExtType(_EXT_BIGINT, str(int(obj)).encode())
        for base in (float, str, bytes, list, dict):
            if isinstance(obj, base):
                return base(obj)
        if self._register is None:
            raise TypeError(f"cannot send a {type_name(obj)} to the worker")
        return self(self._register(obj))

    def _tensor(self, t: Any) -> msgpack.ExtType:
        torch = sys.modules["torch"]
        name = str(t.dtype).removeprefix("torch.")
        if name not in _TORCH_DTYPES or t.layout != torch.strided or t.is_quantized:
            return self(self._register(t)) if self._register else _refuse(t)
        host = t if t.device.type == "cpu" and not t.requires_grad else t.detach().cpu()
        if name == "bfloat16":  # NumPy has no bfloat16: send its raw bytes
            data = host.contiguous().reshape(-1).view(torch.uint8).numpy().tobytes()
        else:
            data = host.numpy().tobytes()  # tobytes writes C order whatever the strides
        header = [name, list(t.shape), str(t.device), bool(t.requires_grad), data]
        return msgpack.ExtType(_EXT_TENSOR, self._plain.pack(header))


def _refuse(obj: Any):
    raise TypeError(f"cannot send a {type_name(obj)} to the worker")


def _is_tensor(obj: Any) -> bool:
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(obj, torch.Tensor)


class Decoder:
    """Turns message bytes back into values, accepting nothing but data.

    resolve: maps a RemoteRef to what the receiving side uses for it. The worker
        looks the id up in its object table; the grader keeps the RemoteRef.
    tensor_device: where decoded tensors are placed; None keeps the device the
        sender named when this process can use it, else the CPU.
    """

    def __init__(self, resolve: Callable[[RemoteRef], Any] | None = None) -> None:
        self._resolve = resolve

    def decode(self, data: bytes) -> Any:
        try:
            return msgpack.unpackb(data, ext_hook=self._ext, raw=False, strict_map_key=False)
        except DecodeError:
            raise
        except Exception as exc:  # msgpack raises several types for malformed input
            raise DecodeError(f"malformed message: {exc}") from None

    def _ext(self, code: int, payload: bytes) -> Any:
        if code == _EXT_TUPLE:
            return tuple(self.decode(payload))
        if code == _EXT_NDARRAY:
            dtype, shape, data = _fields(payload, 3)
            return _array(dtype, shape, data)
        if code == _EXT_NPSCALAR:
            dtype, data = _fields(payload, 2)
            return _array(dtype, [], data)[()]
        if code == _EXT_TENSOR:
            return _tensor(*_fields(payload, 5))
        if code == _EXT_COMPLEX:
            real, imag = _fields(payload, 2)
            return complex(float(real), float(imag))
        if code == _EXT_BIGINT:
            text = payload.decode("ascii")
            if not re.fullmatch(r"-?\d{1,4000}", text):
                raise DecodeError("bad integer")
            return int(text)
        if code == _EXT_REF:
            ref_id, name, text = _fields(payload, 3)
            if not (isinstance(ref_id, int) and isinstance(name, str) and isinstance(text, str)):
                raise DecodeError("bad object reference")
            ref = RemoteRef(ref_id, name[:_TEXT_LIMIT], text[:_TEXT_LIMIT])
            return self._resolve(ref) if self._resolve else ref
        raise DecodeError(f"unknown extension type {code}")


def _fields(payload: bytes, count: int) -> list:
    fields = msgpack.unpackb(payload, raw=False)
    if not isinstance(fields, list) or len(fields) != count:
        raise DecodeError("bad extension payload")
    return fields


def _shape(shape: Any) -> tuple[int, ...]:
    if not isinstance(shape, list) or len(shape) > _MAX_NDIM:
        raise DecodeError("bad shape")
    for n in shape:
        if not isinstance(n, int) or not 0 <= n < 2**40:
            raise DecodeError("bad shape")
    return tuple(shape)


def _array(dtype: Any, shape: Any, data: Any) -> np.ndarray:
    if not (isinstance(dtype, str) and _SAFE_DTYPE.match(dtype) and isinstance(data, bytes)):
        raise DecodeError("bad array")
    dt = np.dtype(dtype)
    dims = _shape(shape)
    if math.prod(dims) * dt.itemsize != len(data):
        raise DecodeError("array size does not match its data")
    # A bytearray makes the array writable: the receiver may hand it to code
    # that writes into it (that is how input mutation is detected).
    return np.frombuffer(bytearray(data), dtype=dt).reshape(dims)


def _tensor(name: Any, shape: Any, device: Any, requires_grad: Any, data: Any):
    import torch

    if name not in _TORCH_DTYPES or not isinstance(data, bytes) or not isinstance(device, str):
        raise DecodeError("bad tensor")
    dtype = getattr(torch, name)
    dims = _shape(shape)
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
    if requires_grad is True and (tensor.is_floating_point() or tensor.is_complex()):
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


def frame(body: bytes) -> bytes:
    """The bytes that carry one message on a stream: a length, then the body."""
    if len(body) > MAX_FRAME:
        raise ValueError(f"message of {len(body)} bytes exceeds the {MAX_FRAME}-byte limit")
    return _HEADER.pack(len(body)) + body


def frame_length(header: bytes) -> int:
    (length,) = _HEADER.unpack(header)
    if length > MAX_FRAME:
        raise DecodeError(f"message of {length} bytes exceeds the {MAX_FRAME}-byte limit")
    return length


HEADER_SIZE = _HEADER.size
