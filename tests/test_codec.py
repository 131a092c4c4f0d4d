"""The channel codec carries data only, in both directions, and refuses anything else."""

import gc
import weakref

import msgpack
import numpy as np
import pytest
import torch

from grader.sandbox import codec


def roundtrip(value, register=None, resolve=None):
    return codec.Decoder(resolve).decode(codec.Encoder(register).encode(value))


@pytest.mark.parametrize("value", [
    None, True, False, 0, -5, 2**63 - 1, 2**100, 1.5, float("inf"), 3 + 4j, "text", "汉字", b"\x00\x01",
    [1, [2, 3]], (1, (2, "x")), {"a": 1, 2: [3]}, {(1, 2): "tuple key"},
])
def test_plain_values_roundtrip_with_their_types(value):
    back = roundtrip(value)
    assert back == value and type(back) is type(value)


@pytest.mark.parametrize("dtype", ["float64", "float32", "float16", "int64", "int8", "uint8", "bool", "complex128"])
def test_arrays_roundtrip_with_shape_dtype_and_values(dtype):
    array = (np.arange(24).reshape(2, 3, 4) % 3).astype(dtype)
    back = roundtrip(array)
    assert back.dtype == array.dtype and back.shape == array.shape and np.array_equal(back, array)
    back[0, 0, 0] = 1  # writable: student code receiving it may write into it


def test_non_contiguous_and_empty_arrays():
    array = np.arange(12.0).reshape(3, 4).T
    assert np.array_equal(roundtrip(array), array)
    assert roundtrip(np.zeros((0, 3))).shape == (0, 3)
    assert roundtrip(np.array(2.5)).shape == ()


def test_numpy_scalars_keep_their_type():
    for value in (np.float64(1.25), np.float32(2.5), np.int64(7), np.bool_(True)):
        back = roundtrip(value)
        assert type(back) is type(value) and back == value


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64, torch.float16, torch.bfloat16, torch.int64,
                                   torch.int8, torch.uint8, torch.bool, torch.complex64])
def test_tensors_roundtrip_and_can_be_written_to(dtype):
    tensor = torch.arange(6).reshape(2, 3).to(dtype)
    for sent in (tensor, tensor.T, tensor[:, 1:]):  # and views that are not contiguous
        back = roundtrip(sent)
        assert isinstance(back, torch.Tensor) and back.dtype == dtype and torch.equal(back, sent)
    back[0, 0] = 1  # a check may hand it to code that changes its input
    assert back[0, 0] == 1


def test_tensor_requires_grad_and_parameters_travel_as_tensors():
    parameter = torch.nn.Parameter(torch.ones(2, 2))
    back = roundtrip(parameter)
    assert type(back) is torch.Tensor and back.requires_grad and torch.equal(back.detach(), parameter.detach())


def test_non_data_objects_become_references_when_a_table_is_given():
    objects = []

    def register(obj):
        objects.append(obj)
        return codec.RemoteRef(len(objects), codec.type_name(obj), codec.short_text(obj))

    back = roundtrip([object(), (x for x in [])], register)
    assert [type(r) for r in back] == [codec.RemoteRef, codec.RemoteRef]
    assert back[1].type_name == "generator"
    assert roundtrip(back[0], resolve=lambda ref: objects[ref.id - 1]) is objects[0]


def test_object_arrays_are_never_sent_as_data():
    refs = []
    ragged = np.array([[1], [1, 2]], dtype=object)
    back = roundtrip(ragged, lambda obj: refs.append(obj) or codec.RemoteRef(1, codec.type_name(obj), ""))
    assert isinstance(back, codec.RemoteRef) and refs == [ragged]


def test_the_grading_side_cannot_send_non_data():
    with pytest.raises(TypeError):
        codec.Encoder().encode(object())


def test_an_encoder_is_freed_as_soon_as_it_is_dropped():
    # A grading process makes an encoder per worker: one kept alive by a reference cycle would hold
    # its packers' buffers until a full garbage collection, and memory would climb student by student.
    gc.disable()
    try:
        encoder = codec.Encoder()
        encoder.encode({"args": [np.zeros(1000), (1, torch.ones(3))]})
        dropped = weakref.ref(encoder)
        del encoder
        assert dropped() is None
    finally:
        gc.enable()


def test_an_encoder_is_reused_cleanly_after_a_refused_value():
    # One encoder carries every message of a worker: a value refused half-way through a message,
    # deep inside tuples, must leave nothing behind in the next message.
    encoder, decoder = codec.Encoder(), codec.Decoder()
    message = {"args": [(np.arange(3.0), (1, (np.float32(2), "x"))), {"k": 3 + 1j}]}
    first = encoder.encode(message)
    with pytest.raises(TypeError):
        encoder.encode({"args": [np.ones(2), (1, (2, object()))]})
    assert encoder.encode(message) == first
    back = decoder.decode(first)["args"]
    assert np.array_equal(back[0][0], np.arange(3.0)) and back[0][1] == (1, (2.0, "x"))
    assert type(back[0][1][1][0]) is np.float32 and back[1] == {"k": 3 + 1j}


def _ext(code, payload: bytes) -> bytes:
    return msgpack.packb(msgpack.ExtType(code, payload))


def _text(value: str) -> bytes:
    return bytes([len(value)]) + value.encode()


def _dims(*dims: int) -> bytes:
    return bytes([len(dims)]) + b"".join(n.to_bytes(8, "big") for n in dims)


@pytest.mark.parametrize("payload", [
    _ext(1, _text("|O8") + _dims(1) + b"\x00" * 8),  # object dtype
    _ext(1, _text("<f8") + _dims(2, 2) + b"\x00" * 8),  # size does not match
    _ext(1, _text("<f8") + _dims(1 << 50) + b""),  # absurd dimension
    _ext(1, _text("V8") + _dims(1) + b"\x00" * 8),  # void / record dtype
    _ext(1, b"\x09<f8"),  # text longer than the payload
    _ext(2, _text("object") + _dims(1) + _text("cpu") + b"\x00" + b"\x00"),  # unknown tensor dtype
    _ext(2, _text("float32") + _dims(1) + _text("cuda; rm -rf /") + b"\x00" + b"\x00" * 4),  # device text
    _ext(5, b"\x00" * 8 + b"\x00\x02\xff\xfe" + b"\x00\x00"),  # a reference whose name is not UTF-8
    _ext(6, b"\x00" * 15),  # a complex number one byte short
    msgpack.packb(msgpack.ExtType(7, b"12abc")),  # not an integer
    msgpack.packb(msgpack.ExtType(99, b"")),
    msgpack.packb([1, msgpack.ExtType(3, b"")]),  # a tuple's mark anywhere but first
    msgpack.packb({"k": msgpack.ExtType(3, b"")}),
    msgpack.packb(msgpack.ExtType(3, b"")),
    b"\xc1",  # never used by msgpack
    b"\x93\x01\x02",  # an array of three that holds two
    b"\x01\x02",  # bytes after the end
    b"\xdd\xff\xff\xff\xff",  # an array claiming four billion items
])
def test_malformed_or_unsafe_messages_are_refused(payload):
    with pytest.raises(codec.DecodeError):
        codec.Decoder().decode(payload)


def test_nesting_is_bounded_without_recursion_however_deep_the_message():
    # A worker can write any bytes: 100,000 nested arrays must be refused by measuring, not by recursing.
    deep = b"\x91" * 100_000 + b"\xc0"
    with pytest.raises(codec.DecodeError, match="levels deep"):
        codec.Decoder().decode(deep)
    tuple_mark = b"\x92\xd4\x03\x00"  # [mark, ...]: one level of tuple
    with pytest.raises(codec.DecodeError, match="levels deep"):
        codec.Decoder().decode(tuple_mark * 100_000 + b"\xc0")
    fine = (1,)
    for _ in range(codec.MAX_DEPTH - 2):
        fine = (fine,)
    assert roundtrip(fine) == fine


def test_one_object_per_byte_is_refused_before_anything_is_built():
    # Five megabytes of empty lists would be five million Python lists: measured and refused first.
    count = codec.MAX_ITEMS + 10
    flood = b"\xdd" + count.to_bytes(4, "big") + b"\x90" * count
    with pytest.raises(codec.DecodeError, match="values"):
        codec.Decoder().decode(flood)


def test_the_worker_cannot_send_values_nested_deeper_than_the_packer_allows():
    deep = []
    for _ in range(2000):
        deep = [deep]
    with pytest.raises(ValueError):
        codec.Encoder(lambda obj: codec.RemoteRef(1, "x", "")).encode(deep)


def test_measure_counts_what_decoding_builds():
    message = codec.Encoder().encode({"a": [1, (2, 3)], "b": np.zeros(3)})
    # the map, two keys, the list, 1, the tuple's array, its mark, 2, 3, the array extension
    assert codec.measure(message) == 10


def test_remote_references_are_capped_on_the_receiving_side():
    payload = (7).to_bytes(8, "big") + (1000).to_bytes(2, "big") + b"N" * 1000 + (3).to_bytes(2, "big") + b"abc"
    ref = codec.Decoder().decode(_ext(5, payload))
    assert ref.id == 7 and len(ref.type_name) == codec.TEXT_LIMIT and ref.text == "abc"
