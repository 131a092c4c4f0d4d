"""Naming the likely mistake behind wrong numbers, parameter by parameter.

A wrong gradient is far more useful with a guess at why. Each guess is a
hypothesis tested against the student's values with a tolerance, in order from
most to least specific, and the first that fits is named:

* a known wrong formula the check computed itself (a "variant", such as the
  sigmoid derivative taken at the activation instead of the pre-activation);
* the transpose of the right matrix;
* the right values with the sign flipped;
* zero where the right value is not;
* off by a named factor (2, 1/2, the batch size N, ...), with or without a
  flipped sign;
* for arrays, off by some other constant factor.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from grader.compare import as_number, assert_same
from grader.errors import CheckFailed
from grader.model import DiagnosisRow

# How close a hypothesis must fit: the student's numbers come from the same
# formula in float64, so a real match is exact to rounding.
_RTOL = 1e-6
_BASE_FACTORS = {"2": 2.0, "1/2": 0.5}


@dataclass(frozen=True)
class Entry:
    """One parameter's comparison."""

    name: str
    expected: np.ndarray
    actual: np.ndarray | None
    relative_error: float
    mistake: str | None

    @property
    def ok(self) -> bool:
        return self.actual is not None and self.mistake is None and self.relative_error <= 0


def _close(actual: np.ndarray, expected: np.ndarray, rtol: float = _RTOL, atol: float = 0.0) -> bool:
    scale = max(1e-12, float(np.max(np.abs(expected))) if expected.size else 0.0)
    return actual.shape == expected.shape and bool(
        np.allclose(actual, expected, rtol=rtol, atol=max(atol, rtol * scale)))


def relative_error(actual: np.ndarray, expected: np.ndarray) -> float:
    """|actual - expected| / |expected| in the Euclidean norm (the error itself where expected is 0)."""
    difference = float(np.linalg.norm((actual - expected).ravel()))
    size = float(np.linalg.norm(expected.ravel()))
    return difference / size if size > 1e-300 else difference


def likely_mistake(actual: np.ndarray, expected: np.ndarray, *, factors: Mapping[str, float] = {},
                   variants: Mapping[str, Any] = {}) -> str | None:
    """The first hypothesis that explains actual, or None.

    The words are the grader's alone, never a value the submission chose (its
    shape, a ratio it produced): a hidden check's summary may quote them, and a
    submission could spell a hidden input with its own shapes and factors.
    ``specifics`` says the values, for the details.
    """
    if actual.shape != expected.shape:
        if expected.ndim == 2 and actual.shape == expected.T.shape and _close(actual, expected.T):
            return "transposed: it is the transpose of the right matrix"
        if actual.size == expected.size and _close(actual.reshape(expected.shape), expected):
            return "the right values in the wrong shape"
        return "the wrong shape"
    for label, value in variants.items():
        value = np.asarray(value, dtype=float)
        if value.shape == expected.shape and _close(actual, value) and not _close(value, expected):
            return label
    if _close(actual, -expected) and not _close(expected, 0 * expected):
        return "the sign is flipped"
    if _close(actual, 0 * expected) and not _close(expected, 0 * expected):
        return "it is zero"
    ratio = _ratio(actual, expected)
    if ratio is None:
        return None
    for label, factor in {**factors, **_BASE_FACTORS}.items():  # the check's own factors say more
        if np.isclose(ratio, factor, rtol=_RTOL):
            return f"off by a factor of {label}"
        if np.isclose(ratio, -factor, rtol=_RTOL):
            return f"the sign is flipped and it is off by a factor of {label}"
    if expected.size > 1:
        return "off by a constant factor"
    return None


def specifics(actual: np.ndarray, expected: np.ndarray, mistake: str) -> str:
    """The values behind a likely mistake (shapes, the factor), for details only; "" when it names none."""
    if mistake in ("the right values in the wrong shape", "the wrong shape"):
        return f"its shape is {actual.shape}; expected {expected.shape}"
    if mistake == "off by a constant factor":
        ratio = _ratio(actual, expected)
        return f"a factor of {ratio:.4g}" if ratio is not None else ""
    return ""


def _ratio(actual: np.ndarray, expected: np.ndarray) -> float | None:
    """The factor that turns expected into actual, where one does."""
    denominator = float(np.vdot(expected, expected))
    if denominator <= 0:
        return None
    ratio = float(np.vdot(actual, expected)) / denominator
    return ratio if _close(actual, ratio * expected) else None


def compare_parameters(actual: Any, expected: Mapping[str, Any], *, rtol: float = 1e-6, atol: float = 0.0,
                       factors: Mapping[str, float] = {},
                       variants: Mapping[str, Mapping[str, Any]] = {}) -> list[Entry]:
    """An Entry per expected key; variants maps a mistake's words to its values per key.

    A value matches when it is within rtol of the largest expected magnitude of
    its key, or within atol. One mistake usually shows in several parameters,
    and two mistakes can agree on some of them (a wrong output-neuron slope
    gives w5 the same value whether or not the hidden slopes are wrong too), so
    the variant that explains the most parameters is tried first for each.
    """
    arrays = {name: (np.asarray(want, dtype=float), _as_array(actual.get(name) if isinstance(actual, Mapping) else None,
                                                              np.asarray(want, dtype=float)))
              for name, want in expected.items()}
    explained = {label: sum(1 for name, (want, got) in arrays.items() if name in values
                            and _explains(got, want, np.asarray(values[name], dtype=float)))
                 for label, values in variants.items()}
    order = sorted(variants, key=lambda label: -explained[label])  # stable: ties keep the check's order
    entries = []
    for name, (want, got) in arrays.items():
        if got is None:
            entries.append(Entry(name, want, None, float("inf"), "missing or not a number"))
            continue
        if got.shape == want.shape and _close(got, want, rtol, atol):
            entries.append(Entry(name, want, got, 0.0, None))
            continue
        error = relative_error(got, want) if got.shape == want.shape else float("inf")
        own = {label: variants[label][name] for label in order if name in variants[label]}
        mistake = likely_mistake(got, want, factors=factors, variants=own)
        entries.append(Entry(name, want, got, error, mistake))
    return entries


def _explains(got: np.ndarray | None, want: np.ndarray, value: np.ndarray) -> bool:
    return (got is not None and value.shape == want.shape == got.shape and _close(got, value)
            and not _close(value, want))


def _as_array(value: Any, like: np.ndarray) -> np.ndarray | None:
    if isinstance(value, np.ndarray) and value.dtype.kind in "biuf":
        return value.astype(float)
    if like.ndim == 0:
        try:
            return np.asarray(as_number(value, what="value"), dtype=float)
        except (CheckFailed, TypeError):
            return None
    torch_tensor = getattr(value, "detach", None)
    if torch_tensor is not None:
        return value.detach().cpu().double().numpy()
    return None


def _value(array: np.ndarray | None) -> str:
    if array is None:
        return "nothing usable"
    if array.ndim == 0:
        return f"{float(array):.6g}"
    shown = np.array2string(array, precision=4, threshold=8, max_line_width=10_000)
    return " ".join(shown.split())


def require_parameters(entries: list[Entry], *, what: str, wording: Mapping[str, str] = {}) -> None:
    """Raise CheckFailed naming each wrong parameter and its likely mistake, or return.

    wording rephrases a mistake for the check's context: after a training step,
    "it is zero" means "never changes".
    """
    wrong = [e for e in entries if not e.ok]
    if not wrong:
        return

    def mistake(entry: Entry) -> str | None:
        return wording.get(entry.mistake, entry.mistake) if entry.mistake else None

    names = ", ".join(f"{e.name} ({mistake(e)})" if mistake(e) else e.name for e in wrong)
    right = len(entries) - len(wrong)
    # what may be singular or plural ("the loss", "the weights"), so no verb has it for its subject.
    summary = f"{what}: wrong for {names}"
    summary += f"; the other {'one is' if right == 1 else f'{right} are'} right." if right else "."
    shared = {mistake(e) for e in wrong}
    if len(wrong) > 1 and len(shared) == 1 and None not in shared:
        summary += " " + _sentence(f"All of them: {shared.pop()}")
    rows, table = [], []
    for entry in wrong:
        finite = entry.relative_error != float("inf")
        error = f", relative error {entry.relative_error:.3g}" if finite else ""
        rows.append(f"{entry.name}: expected {_value(entry.expected)}, got {_value(entry.actual)}{error}")
        table.append(DiagnosisRow(entry.name, _value(entry.expected), _value(entry.actual),
                                  entry.relative_error if finite else None, mistake(entry) or ""))
    raise CheckFailed(summary, "\n".join(rows), diagnosis=tuple(table))


def require_close(actual: Any, expected: Any, *, what: str, rtol: float | None = None, atol: float | None = None,
                  factors: Mapping[str, float] = {}, variants: Mapping[str, Any] = {}) -> None:
    """assert_same, and when the values are wrong, the likely mistake in the summary."""
    try:
        assert_same(actual, expected, what=what, rtol=rtol, atol=atol)
    except CheckFailed as failed:
        want = np.asarray(expected, dtype=float)
        got = _as_array(actual, want)
        mistake = likely_mistake(got, want, factors=factors, variants=variants) if got is not None else None
        if mistake is None:
            raise
        said = specifics(got, want, mistake)
        details = f"{failed.details} Likely: {mistake}" + (f" ({said})." if said else ".")
        raise CheckFailed(f"{failed.summary} {_sentence(f'Likely: {mistake}')}", details.strip()) from None


def _sentence(text: str) -> str:
    """text ending in a full stop, unless it already ends as a sentence does ("did you sum?")."""
    return text if text.rstrip().endswith((".", "?", "!")) else text + "."
