"""Where a run's random inputs come from, and why hidden ones cannot be predicted or replayed.

Every run has a seed, printed in its report. Public checks draw their inputs
from it and the check's name alone, so ``grade ASSIGNMENT --seed N`` reproduces
them anywhere, a student's copy included.

Hidden checks and the seeds handed to student code before each call are drawn
from a course secret as well: 32 random bytes kept beside the reference
solution (``reference/course-secret``), made on first use, never released,
never part of a student's copy or a Classroom 50 bundle (whose secret file
says ``public``: its hidden checks are published with it). Without the secret,
nobody can compute a hidden input, nor tell from the state of their random
generators which check is calling.

Where the secret exists and no seed is given, the run's seed is itself drawn
from the secret and the submission's whole file (a notebook's Markdown cells
and outputs too): each student's submission, and each change to it, gets inputs
of its own, so a value leaked in one run is worth nothing in the next.
``grade --seed N`` on a staff machine (with the same secret) reproduces any
run exactly, hidden checks included.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import zlib
from pathlib import Path

import numpy as np

from grader.errors import SpecError

SECRET_FILE = "course-secret"
PUBLIC = "public"  # a secret file saying so: this copy's hidden checks are published (a Classroom 50 bundle)
_SECRET_BYTES = 32


def course_secret(course: Path) -> bytes | None:
    """The course's secret, made on first use; None where there is no reference/ (a student's copy)."""
    folder = course / "reference"
    if not folder.is_dir():
        return None
    path = folder / SECRET_FILE
    try:
        return _read(path)
    except FileNotFoundError:
        pass
    except PermissionError:
        raise SpecError(f"{path}: this user may not read the course secret; grade as the user who owns the "
                        "course's reference/ folder") from None
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another grading process made it first
        return _read(path)
    except OSError as exc:
        raise SpecError(f"{path}: the course secret that keeps hidden inputs unpredictable could not be made "
                        f"({exc.strerror}); make it with: python -c \"import os; print(os.urandom(32).hex())\" > {path}"
                        ) from None
    with os.fdopen(fd, "w") as file:
        file.write(os.urandom(_SECRET_BYTES).hex() + "\n")
    return _read(path)


def _read(path: Path) -> bytes | None:
    text = path.read_text(encoding="ascii").strip()
    if text == PUBLIC:
        return None
    try:
        secret = bytes.fromhex(text)
    except ValueError:
        secret = b""
    if len(secret) < 16:
        raise SpecError(f"{path}: not a course secret (expected at least 32 hexadecimal digits)")
    return secret


def _derive(secret: bytes, *parts: object) -> int:
    message = "\0".join(str(part) for part in parts).encode()
    return int.from_bytes(hmac.new(secret, message, hashlib.sha256).digest()[:8], "big") >> 1


def run_seed(secret: bytes, digest: str) -> int:
    """The seed of a run without --seed: drawn from the secret and the submission's whole file (its digest)."""
    return _derive(secret, "run", digest)


def public_rng(seed: int, check: str) -> np.random.Generator:
    """A public check's generator: fixed by the seed and the check's name, so anyone can reproduce it."""
    return np.random.default_rng(np.random.SeedSequence([seed, zlib.crc32(check.encode())]))


def hidden_rng(secret: bytes | None, seed: int, check: str) -> np.random.Generator:
    """A hidden check's generator: the secret, the seed and the check's name."""
    if secret is None:  # no secret, no hidden inputs to protect (hidden checks only run beside reference/)
        return public_rng(seed, check)
    return np.random.default_rng(np.random.SeedSequence([_derive(secret, "hidden", seed, check)]))


def call_seed(secret: bytes | None, seed: int, check: str) -> int:
    """What seeds student code's generators before each call of a check.

    With the secret it reveals nothing about which check is calling; without
    it (a student's copy, where every check is public) it is plain.
    """
    if secret is None:
        return zlib.crc32(f"{seed}:student:{check}".encode())
    return _derive(secret, "call", seed, check)
