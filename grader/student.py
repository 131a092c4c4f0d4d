"""Student code as a check sees it.

``student.naive_add(x, y)`` looks like a local call, but the arguments travel as
data to the sandbox worker and the result comes back as data: an array, a
number, a list, or a ``RemoteObject`` standing for an object that stays in the
worker (a network instance, say). A check may only reach the functions it
declared, so the report knows exactly which functions each check exercised.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from grader.errors import GraderError
from grader.sandbox.codec import RemoteRef
from grader.sandbox.faults import StudentFault
from grader.sandbox.session import Reply, Session

# The rules that watch reads and writes of attributes as well as calls: what a getter does can be judged
# without knowing which call it stands for. (The loops rule watches arrays passed in, and the measured
# rules compare whole calls, so neither says anything of a read.)
ACCESS_RULES = ("autograd",)


@dataclass(frozen=True)
class Call:
    """A call's result and its arguments as they were after the call returned."""

    value: Any
    args: list
    kwargs: dict


class Student:
    def __init__(self, session: Session, allowed: frozenset[str], rules: dict[str, tuple[str, ...]],
                 trace_log: dict[str, dict[str, Counter]], seed: int | None = None,
                 timeout: float | None = None) -> None:
        """rules: each rule and the functions it watches; trace_log collects what was seen, by rule and function.

        seed: every generator in the student's process (random, NumPy, torch) is
        set to it before each call, so code that draws random numbers is
        reproducible run after run.
        timeout: seconds each call may take unless the call says otherwise
            (the check's own timeout; else the assignment's).
        """
        self._session = session
        self._allowed = allowed
        self._rules = rules
        self._trace_log = trace_log
        self._seed = seed
        self._timeout = timeout

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(name)
        return _Function(self, name)

    def _permit(self, function: str, op: str) -> None:
        owner, _, member = function.partition(".")
        if function in self._allowed or owner in self._allowed:
            return
        # Constructing a class, or reading an attribute of one of its objects,
        # is part of exercising any of its declared methods.
        if (op != "call" or not member) and any(a.split(".")[0] == owner for a in self._allowed):
            return
        raise GraderError(f"a check used {function} but does not list it in functions={sorted(self._allowed)}")

    def _request(self, message: dict, function: str, timeout: float | None,
                 owners: dict[str, list[str]] | None = None) -> Reply:
        """owners: rule -> the functions what the worker saw under that rule counts against (else function)."""
        self._permit(function, "call" if message["op"] == "probe" else message["op"])
        if self._seed is not None:
            message["seed"] = self._seed
        reply = self._session.request(message, function, self._timeout if timeout is None else timeout)
        for rule, operations in reply.trace.items():
            for owner in (owners or {}).get(rule, [function]):
                self._trace_log.setdefault(rule, {}).setdefault(owner, Counter()).update(operations)
        return reply

    def _access_watch(self, on: RemoteObject | None) -> dict[str, list[str]]:
        """rule -> the watched functions a read or write of an attribute of on (None: the module) answers to.

        A read or a write runs student code too (a property, __getattr__, __setattr__, a module's
        __getattr__): a train that only stores its data and does its work, with autograd, when the
        grader reads the weights would otherwise go unwatched. What such code does counts against
        every watched method of the object's class (every watched function, for the module).
        """
        prefix = f"{on.class_name}." if on is not None else ""
        watch = {rule: [f for f in functions if f.startswith(prefix)]
                 for rule, functions in self._rules.items() if rule in ACCESS_RULES}
        return {rule: functions for rule, functions in watch.items() if functions}

    def _wrap(self, value: Any, function: str) -> Any:
        if isinstance(value, RemoteRef):
            return RemoteObject(self, value, self._session.generation, function)
        return value

    def _encode_arg(self, value: Any, function: str) -> Any:
        if isinstance(value, RemoteObject):
            self._session.check_ref(value.ref, value.generation, function)
            return value.ref
        if isinstance(value, list):
            return [self._encode_arg(v, function) for v in value]
        if isinstance(value, tuple):
            return tuple(self._encode_arg(v, function) for v in value)
        if isinstance(value, dict):
            return {k: self._encode_arg(v, function) for k, v in value.items()}
        return value

    def run(self, name: str, args: tuple = (), kwargs: dict | None = None, *, timeout: float | None = None,
            on: RemoteObject | None = None) -> Call:
        """Call name(*args, **kwargs) and return the value and the arguments after the call.

        Use this when it matters what the call did to its inputs; the plain
        ``student.name(...)`` form returns only the value.
        """
        return self._call(name, args, kwargs or {}, timeout, on, return_args=True)

    def _call(self, name: str, args: tuple, kwargs: dict, timeout: float | None, on: RemoteObject | None,
              return_args: bool) -> Any:
        function = f"{on.class_name}.{name}" if on is not None else name
        message = {
            "op": "call",
            "on": self._encode_arg(on, function) if on is not None else None,
            "path": name.split("."),
            "args": [self._encode_arg(a, function) for a in args],
            "kwargs": {k: self._encode_arg(v, function) for k, v in kwargs.items()},
            "trace": [rule for rule, functions in self._rules.items() if function in functions],
            "return_args": return_args,
        }
        reply = self._request(message, function, timeout)
        value = self._wrap(reply.value, function)
        if return_args:
            return Call(value, list(reply.args or []), dict(reply.kwargs or {}))
        return value

    def probe(self, name: str, *args: Any, function: str, timeout: float | None = None, **kwargs: Any) -> Any:
        """Run the assignment's probe `name` in the student's process; it exercises `function`.

        Probes are grader code (the assignment's probes.py) that drive student
        code where objects live, such as handing train_epoch a network and an
        optimizer, and return data.
        """
        message = {
            "op": "probe",
            "name": name,
            "args": [self._encode_arg(a, function) for a in args],
            "kwargs": {k: self._encode_arg(v, function) for k, v in kwargs.items()},
            "trace": [rule for rule, functions in self._rules.items() if function in functions],
        }
        return self._wrap(self._request(message, function, timeout).value, function)

    def get(self, name: str, on: RemoteObject | None = None) -> Any:
        function = f"{on.class_name}.{name}" if on is not None else name
        watch = self._access_watch(on)
        message = {"op": "get", "on": self._encode_arg(on, function) if on is not None else None,
                   "path": name.split("."), "trace": list(watch)}
        return self._wrap(self._request(message, function, None, watch).value, function)

    def set(self, name: str, value: Any, on: RemoteObject | None = None) -> None:
        function = f"{on.class_name}.{name}" if on is not None else name
        watch = self._access_watch(on)
        message = {"op": "set", "on": self._encode_arg(on, function) if on is not None else None,
                   "path": name.split("."), "value": self._encode_arg(value, function), "trace": list(watch)}
        self._request(message, function, None, watch)


class _Function:
    """student.<name>: call it like the student's function."""

    def __init__(self, student: Student, name: str) -> None:
        self._student = student
        self._name = name

    def __call__(self, *args: Any, timeout: float | None = None, **kwargs: Any) -> Any:
        return self._student._call(self._name, args, kwargs, timeout, None, return_args=False)


class RemoteObject:
    """An object living in the student's process (for example a network instance).

    class_name is the name the student code exposes it under (the class a check
    constructed), used to scope and name method calls: ``OurNeuralNetwork.train``.
    """

    def __init__(self, student: Student, ref: RemoteRef, generation: int, made_by: str) -> None:
        self._student = student
        self.ref = ref
        self.generation = generation
        self.class_name = made_by.split(".")[0]

    @property
    def type_name(self) -> str:
        return self.ref.type_name

    def call(self, method: str, *args: Any, timeout: float | None = None, **kwargs: Any) -> Any:
        return self._student._call(method, args, kwargs, timeout, self, return_args=False)

    def run(self, method: str, args: tuple = (), kwargs: dict | None = None, *, timeout: float | None = None) -> Call:
        return self._student.run(method, args, kwargs, timeout=timeout, on=self)

    def get(self, attribute: str) -> Any:
        return self._student.get(attribute, on=self)

    def set(self, attribute: str, value: Any) -> None:
        self._student.set(attribute, value, on=self)

    def __repr__(self) -> str:
        return f"<remote {self.type_name}>"


__all__ = ["Call", "RemoteObject", "Student", "StudentFault"]
