"""The worker protocol: frames are bounded, and what a worker sends is checked, capped and cleaned."""

import socket

import numpy as np
import pytest

from grader.sandbox import codec, protocol


def test_frames_are_bounded():
    assert protocol.frame_length(protocol.frame(b"abc")[: protocol.HEADER_SIZE]) == 3
    with pytest.raises(codec.DecodeError):
        protocol.frame_length((protocol.MAX_FRAME + 1).to_bytes(4, "big"))
    with pytest.raises(ValueError):
        protocol.frame(bytes(protocol.MAX_FRAME + 1))


def test_a_frame_reader_hands_out_whole_frames_however_the_bytes_arrive():
    reader = protocol.FrameReader()
    data = protocol.frame(b"first") + protocol.frame(b"") + protocol.frame(b"third")
    bodies = []
    for byte in data:
        reader.feed(bytes([byte]))
        while (body := reader.next_body()) is not None:
            bodies.append(body)
    assert bodies == [b"first", b"", b"third"]


def test_a_channel_carries_messages_and_descriptors():
    left, right = socket.socketpair()
    read_end, write_end = __import__("os").pipe()
    try:
        sender, receiver = protocol.Channel(left), protocol.Channel(right)
        sender.send({"x": np.arange(3.0), "t": (1, "a")}, fds=[read_end])
        sender.send({"second": True})
        message, fds = receiver.receive_with_fds()
        assert message["t"] == (1, "a") and np.array_equal(message["x"], np.arange(3.0)) and len(fds) == 1
        assert receiver.receive() == {"second": True}
        left.close()
        assert receiver.receive() is None
    finally:
        right.close()


def test_replies_are_read_into_typed_values_with_student_text_cleaned_and_capped():
    hostile = "\x1b[2J\x1b]52;c;cGF5bG9hZA==\x07Score: 38/38\r\x1b[1A" + "x" * 10_000
    reply = protocol.read_reply({"ok": False, "error": {
        "kind": "raised", "type": "Evil\x1b[31mName" * 50, "mro": ["A"] * 1000, "message": hostile,
        "frames": [{"where": "line 3", "line": 3, "function": "f", "code": "\x07x = 1"}] * 50}})
    assert isinstance(reply, protocol.Failure) and reply.kind == "raised"
    assert "\x1b" not in reply.name and len(reply.name) <= protocol.NAME_LIMIT
    assert len(reply.mro) <= 32 and len(reply.frames) == protocol.MAX_FRAMES
    assert "\x1b" not in reply.message and "\r" not in reply.message and "\x07" not in reply.message
    assert reply.message.startswith("Score: 38/38\n") and len(reply.message) <= protocol.MESSAGE_LIMIT
    assert reply.frames[0].code == "x = 1"


@pytest.mark.parametrize("message", [
    {"ok": False}, {"ok": False, "error": "text"}, {"ok": False, "error": {"kind": "forged"}}, {},
])
def test_malformed_replies_become_protocol_failures(message):
    reply = protocol.read_reply(message)
    assert isinstance(reply, protocol.Failure) and reply.kind == "protocol"


def test_forged_trace_counts_are_dropped_unless_they_are_counts():
    reply = protocol.read_reply({"ok": True, "value": 1, "trace": {"loops": {"numpy.add": 2, "x": -1, "y": True,
                                                                           "z": "7"}}})
    assert reply.trace == {"loops": {"numpy.add": 2}}


def test_analysis_and_loaded_messages_are_checked():
    with pytest.raises(codec.DecodeError):
        protocol.read_analysis({"kind": "loaded"})
    analysis = protocol.read_analysis({"kind": "analysis", "protection": {"seccomp": True},
                                       "findings": {"loops": {"f": [{"where": "line 2", "code": "x + y",
                                                                     "reason": "adds arrays"}] * 500}}})
    assert len(analysis.findings["loops"]["f"]) == protocol.MAX_FINDINGS
    loaded = protocol.read_loaded({"kind": "loaded", "notes": [{"kind": "exception", "text": "boom\rfake"}] * 99,
                                   "defined": {"f": "function"}})
    assert len(loaded.notes) == protocol.MAX_NOTES and loaded.notes[0].text == "boom\nfake"
