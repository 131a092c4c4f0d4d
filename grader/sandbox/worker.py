"""The sandbox worker: the only process that runs student code.

A worker is forked by the zygote (``grader.sandbox.zygote``), locks itself down
(``hardening``), reads the submission's source for whole-array arithmetic
(``staticscan``) and sends that reading before running a single line of student
code. Then it runs the submission and answers requests from the grader: call a
function or method, read or set an attribute. Every answer is data
(``codec``); the grader decides what it means.

This module must not import the grading side of the package.
"""

from __future__ import annotations
import __future__

import ast
import linecache
import os
import random
import signal
import socket
import sys
import time
import traceback
import types
from typing import Any

from grader.sandbox import codec, hardening, hooks, ipython_shim, protocol, staticscan, tracing
from grader.sandbox.protocol import Channel

_MESSAGE_LIMIT = protocol.MESSAGE_LIMIT
_MAX_NOTES = protocol.MAX_NOTES
_MAX_FRAMES = protocol.MAX_FRAMES


def send(channel: Channel, message: dict) -> None:
    """Send message; where its value cannot be sent (too deep, too large, a tensor NumPy cannot hold), say why instead.

    The worker measures what it sends as the grading process will: a value the
    grader would refuse is refused here, in words, rather than read there as
    garbage on the channel.
    """
    try:
        body = channel.encoder.encode(message)
        codec.measure(body)
        data = protocol.frame(body)
    except Exception as exc:  # encoding runs student code (repr, tensor subclasses): anything may come out
        data = protocol.frame(channel.encoder.encode(protocol.error_reply("unsendable", message=_unsendable(exc))))
    channel.sock.sendall(data)


def _unsendable(exc: Exception) -> str:
    text = str(exc)
    if (isinstance(exc, codec.DecodeError) and "levels deep" in text
            or isinstance(exc, ValueError) and "recursion" in text):
        return f"it is nested too deeply (lists, tuples or dicts inside each other more than {codec.MAX_DEPTH} levels)"
    if isinstance(exc, codec.DecodeError) and "values" in text:
        return f"it holds more than {codec.MAX_ITEMS:,} values in lists, tuples and dicts; return an array instead"
    if isinstance(exc, ValueError) and "larger than the channel allows" in text:
        return f"it is larger than the {protocol.MAX_FRAME // (1024 * 1024)} MB the grader accepts"
    return f"{type(exc).__name__}: {_safe_str(exc)}"


class ObjectTable:
    """Objects that stay in the worker, named for the grader by RemoteRef ids."""

    def __init__(self, module_name: str) -> None:
        self._objects: dict[int, Any] = {}
        self._module_name = module_name

    def register(self, obj: Any) -> codec.RemoteRef:
        ref_id = len(self._objects) + 1
        self._objects[ref_id] = obj
        return codec.RemoteRef(ref_id, _kind_of(obj, self._module_name), codec.short_text(obj))

    def resolve(self, ref: codec.RemoteRef) -> Any:
        if ref.id not in self._objects:
            raise LookupError(f"unknown object reference {ref.id}")
        return self._objects[ref.id]


def _kind_of(obj: Any, module_name: str) -> str:
    """The type name a check shows; for a tensor the codec cannot carry, what kind it is."""
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(obj, torch.Tensor):
        try:
            if obj.device.type == "meta":
                return "torch.Tensor on the meta device (it holds no values)"
            if obj.layout != torch.strided:
                return f"{str(obj.layout).removeprefix('torch.')} torch.Tensor"
            return f"torch.Tensor of dtype {str(obj.dtype).removeprefix('torch.')}"
        except Exception:  # a tensor subclass may raise anything
            pass
    return codec.type_name(obj, (module_name,))


class Submission:
    """The student's code: its units, compiled file names and module namespace."""

    def __init__(self, module_name: str, units: list[dict]) -> None:
        self.module = types.ModuleType(module_name)
        self.units = units
        self.labels = {u["filename"]: u["label"] for u in units}

    @property
    def filenames(self) -> frozenset[str]:
        return frozenset(self.labels)

    def where(self, filename: str, line: int | None) -> str:
        label = self.labels.get(filename, "")
        place = f"line {line}" if line else "an unknown line"
        return f"{label}, {place}" if label else place


def _remember_source(filename: str, source: str) -> None:
    # Lets tracebacks show the student's lines, as they would in their editor.
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)


def parse(submission: Submission) -> tuple[list[staticscan.Unit], list[dict]]:
    """Parse every unit; return the parsed ones and notes for syntax errors."""
    parsed, notes = [], []
    for unit in submission.units:
        _remember_source(unit["filename"], unit["source"])
        try:
            tree = ast.parse(unit["source"], filename=unit["filename"])
        except (SyntaxError, ValueError, MemoryError, RecursionError) as exc:
            notes.append(_syntax_note(submission, unit, exc))
            continue
        parsed.append(staticscan.Unit(unit["label"], unit["source"], tree))
        unit["tree"] = tree
    return parsed, notes


def _syntax_note(submission: Submission, unit: dict, exc: BaseException) -> dict:
    line = getattr(exc, "lineno", None)
    where = submission.where(unit["filename"], line)
    message = getattr(exc, "msg", None) or str(exc) or type(exc).__name__
    text = getattr(exc, "text", None)
    problem = f"{message}\n    {text.rstrip()}" if text and text.strip() else message
    consequence = "this cell did not run" if unit["label"] else "none of the file could run"
    return {"kind": "syntax_error", "where": where, "text": f"Syntax error ({consequence}): {problem}",
            "problem": problem}


def _future_flags(tree: ast.Module) -> int:
    flags = 0
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module == "__future__":
            for alias in node.names:
                feature = getattr(__future__, alias.name, None)
                if feature is not None:
                    flags |= feature.compiler_flag
    return flags


def run_units(submission: Submission) -> list[dict]:
    """Run the parsed units in order, as the student would; return notes.

    A notebook runs cell by cell and a .py file statement by statement, and an
    error does not stop what follows: a mistake in a scratch cell at the end
    should not cost the functions defined above and below it.
    """
    notes: list[dict] = []
    namespace = submission.module.__dict__
    for unit in submission.units:
        tree = unit.get("tree")
        if tree is None:
            continue
        pieces = [tree.body] if unit["label"] else [[statement] for statement in tree.body]
        flags = _future_flags(tree)
        for body in pieces:
            module = ast.Module(body=body, type_ignores=[])
            try:
                code = compile(module, unit["filename"], "exec", flags=flags, dont_inherit=True)
                exec(code, namespace)
            except BaseException as exc:  # SystemExit and KeyboardInterrupt too: they are the student's
                if len(notes) < _MAX_NOTES:
                    notes.append(_load_exception_note(submission, unit, body, exc))
    return notes


def _load_exception_note(submission: Submission, unit: dict, body: list, exc: BaseException) -> dict:
    frames = student_frames(submission, exc)
    line = frames[-1]["line"] if frames else body[0].lineno
    where = submission.where(unit["filename"], line)
    if isinstance(exc, SystemExit):
        text = f"Your code called exit() (SystemExit: {_safe_str(exc) or 'no code'}) while loading."
    else:
        text = f"{type(exc).__name__}: {_safe_str(exc)}"
    rest = "the rest of this cell did not run" if unit["label"] else "this statement did not finish"
    return {"kind": "exception", "where": where, "text": f"{text} ({rest})"}


def _safe_str(exc: BaseException) -> str:
    try:
        text = str(exc)
    except BaseException:
        text = "<the error message could not be shown>"
    if not isinstance(text, str):
        return ""
    return text if len(text) <= _MESSAGE_LIMIT else text[: _MESSAGE_LIMIT - 3] + "..."


def student_frames(submission: Submission, exc: BaseException) -> list[dict]:
    frames = []
    for summary in traceback.extract_tb(exc.__traceback__):
        if summary.filename in submission.labels:
            frames.append({
                "where": submission.where(summary.filename, summary.lineno),
                "line": summary.lineno,
                "function": summary.name,
                "code": (summary.line or "").strip()[:200],
            })
    return frames[-_MAX_FRAMES:]


def describe_exception(submission: Submission, exc: BaseException) -> dict:
    """The error reply for exc; it never raises, whatever the student did to traceback or linecache."""
    try:
        names = [str(cls.__name__)[:protocol.NAME_LIMIT] for cls in type(exc).__mro__[:32]]
    except Exception:
        names = ["BaseException"]
    try:
        frames = student_frames(submission, exc)
    except Exception:
        frames = []
    return protocol.error_reply("raised", type=names[0], mro=names, message=_safe_str(exc), frames=frames)


class Server:
    """Answers the grader's requests until the channel closes."""

    def __init__(self, channel: Channel, submission: Submission, table: ObjectTable,
                 probes: dict[str, Any] | None = None, integrity: Integrity | None = None) -> None:
        self.channel = channel
        self.submission = submission
        self.table = table
        self.probes = probes or {}
        self.integrity = integrity

    def serve(self) -> None:
        while True:
            try:
                request = self.channel.receive()
            except codec.DecodeError:
                return
            if request is None:
                return
            send(self.channel, self.answer(request))

    def answer(self, request: dict) -> dict:
        op, on, path = request.get("op"), request.get("on"), list(request.get("path") or [])
        if isinstance(request.get("seed"), int) and op in ("call", "probe"):
            seed_everything(request["seed"])
        try:
            if op == "probe":
                probe = self.probes.get(request.get("name"))
                if probe is None:
                    return protocol.error_reply("protocol", message=f"no probe {request.get('name')!r}")
                return self.call(lambda *args, **kwargs: probe(self.submission.module, *args, **kwargs), request)
            # A read or a write runs student code too (a property, __getattr__, __setattr__): watched like a
            # call under the rules the request names (the grading process names only grader.student.ACCESS_RULES).
            if op == "get":
                return self.call(lambda: self.resolve(on, path), request)
            if op == "set" and path:
                return self.call(lambda: setattr(self.resolve(on, path[:-1]), path[-1], request.get("value")), request)
            if op == "call":
                return self.call(self.resolve(on, path), request)
        except _Missing as missing:
            return protocol.error_reply("missing", name=missing.name, owner=missing.owner)
        except BaseException as exc:  # whatever student code raises is an answer, not our crash
            return describe_exception(self.submission, exc)
        return protocol.error_reply("protocol", message=f"unknown operation {op!r}")

    def resolve(self, on: Any, path: list[str]) -> Any:
        value = self.submission.module if on is None else on
        owner = None
        for name in path:
            try:
                value = getattr(value, name)
            except AttributeError:
                raise _Missing(name, owner) from None
            owner = name
        return value

    def call(self, function: Any, request: dict) -> dict:
        args = list(request.get("args") or [])
        kwargs = dict(request.get("kwargs") or {})
        rules = [r for r in request.get("trace") or [] if r in tracing.RULES]
        if request.get("op") == "probe" and "vectorised" in rules:
            rules.remove("vectorised")  # a probe's arguments say nothing of how much data the function is given
        if "loops" in rules:
            args, kwargs = tracing.traced(args), {k: tracing.traced(v) for k, v in kwargs.items()}
        if rules:
            try:
                with tracing.watching(rules, self.submission.filenames) as recorders:
                    value = function(*args, **kwargs)
            finally:
                tampered = self.integrity.broken() if self.integrity is not None else []
            trace = {rule: _observed(rule, r, args, kwargs) for rule, r in recorders.items()}
            trace = {rule: seen for rule, seen in trace.items() if seen}
            for rule in rules if tampered else ():
                trace.setdefault(rule, {})[protocol.TAMPERED] = 1
        else:
            value, trace = function(*args, **kwargs), {}
        return protocol.value_reply(tracing.untraced(value), trace, tracing.untraced(args), tracing.untraced(kwargs),
                                    bool(request.get("return_args")))


def _observed(rule: str, recorder: Any, args: list, kwargs: dict) -> dict[str, int]:
    """What a watched call that returned did, for one rule, as operation -> count.

    "requires_autograd" says for every call whether autograd derived anything; "vectorised" gives
    each call one entry, "<values>:<lines>" (how many numbers its array arguments held, how many
    lines of student code ran), which the grader compares across calls given more or less data.
    """
    if rule == "requires_autograd":
        return {protocol.AUTOGRAD_RAN if tracing.ran_autograd(recorder) else protocol.AUTOGRAD_SKIPPED: 1}
    if rule == "vectorised":
        if not recorder.intact:
            return {protocol.LINES_HIDDEN: 1}
        return {f"{_values(args) + _values(list(kwargs.values()))}:{recorder.lines}": 1}
    return dict(recorder.operations)


def _values(items: list) -> int:
    """How many numbers the arrays and tensors among items hold."""
    numpy, torch = sys.modules.get("numpy"), sys.modules.get("torch")
    total = 0
    for item in items:
        if numpy is not None and isinstance(item, numpy.ndarray):
            total += int(item.size)
        elif torch is not None and isinstance(item, torch.Tensor):
            total += int(item.numel())
    return total


class _Missing(Exception):
    def __init__(self, name: str, owner: str | None) -> None:
        super().__init__(name)
        self.name = name
        self.owner = owner


_REHEARSAL = """
import numpy as np


def add(x, y):
    out = np.zeros_like(x)
    for i in range(x.shape[0]):
        for j in range(x.shape[1]):
            out[i, j] = max(x[i, j] + y[i, j], 0.0)
    return out


def whole(x, y):
    return np.maximum(x + y, 0).sum(), x @ y.T


def pair(a, b):
    return a, b, [1, 2.5, "text"], {"n": len(a)}


def fails(x):
    return x.no_such_attribute


class Box:
    def __init__(self, value):
        self.value = value

    def twice(self):
        return self.value * 2
"""

_REHEARSAL_TORCH = """
import torch


def tensors(a, b):
    return torch.cat((a, b), 0), a @ b.T, torch.linalg.vector_norm(a), a.T.contiguous()
"""

_REHEARSAL_PROBES = """
def doubled(student, x):
    return student.add(x, x)
"""


def rehearse() -> None:
    """Run, in the zygote, the paths every worker takes, on grader-written sample code.

    A fork shares the zygote's memory until it writes to it, and much of what a
    worker does first in its life writes: modules and libraries initialise
    caches on first use, and Python rewrites the bytecode of the functions it
    runs as it specialises them. Done once here, every worker inherits the
    result instead of paying for it (2.2 ms and 190 copied pages of an
    assignment-1 worker's ~22 ms; less where only NumPy is loaded). The sample
    is the grader's own code, never a submission's, and nothing of it stays: its
    cache entries and the random generators' states are put back as they were.
    """
    import numpy

    torch = sys.modules.get("torch")
    saved = random.getstate(), numpy.random.get_state(), torch.get_rng_state() if torch is not None else None
    cached = set(linecache.cache)  # tracebacks and warnings fill it
    source = _REHEARSAL + (_REHEARSAL_TORCH if torch is not None else "")
    submission = Submission("_rehearsal", [{"label": "", "filename": "<rehearsal>", "source": source}])
    grader_end, worker_end = socket.socketpair()
    try:
        parsed, _ = parse(submission)
        findings_data(staticscan.scan(parsed, {"loops": ["add", "whole"], "autograd": ["tensors"]}))
        run_units(submission)
        _defined_names(submission.module)
        probes = load_probes({"filename": "<rehearsal probes>", "source": _REHEARSAL_PROBES})
        table = ObjectTable("_rehearsal")
        grader = Channel(grader_end)
        channel = Channel(worker_end, codec.Encoder(table.register), codec.Decoder(table.resolve))
        server = Server(channel, submission, table, probes)

        def exchange(request: dict) -> Any:  # each message is small enough to wait in the socket
            grader.send({"on": None, "args": [], "kwargs": {}, "seed": 1, **request})
            send(channel, server.answer(channel.receive()))
            return grader.receive()

        x = numpy.arange(6.0).reshape(2, 3)
        requests = [
            {"op": "call", "path": ["add"], "args": [x, x], "trace": ["loops"]},
            {"op": "call", "path": ["whole"], "args": [x, x], "trace": ["loops"]},
            {"op": "call", "path": ["pair"], "args": [x, (1, 2)], "return_args": True},
            {"op": "call", "path": ["fails"], "args": [1]},
            {"op": "call", "path": ["missing"]},
            {"op": "probe", "name": "doubled", "args": [x]},
        ]
        if torch is not None:
            t = torch.arange(6.0).reshape(2, 3)
            requests += [{"op": "call", "path": ["tensors"], "args": [t, t], "trace": ["autograd"]},
                         {"op": "call", "path": ["tensors"], "args": [t.double(), t.double()]}]
        for request in requests:
            exchange(request)
        box = exchange({"op": "call", "path": ["Box"], "args": [3]})["value"]
        for request in ({"op": "call", "path": ["twice"]}, {"op": "get", "path": ["value"]},
                        {"op": "set", "path": ["value"], "value": 4}):
            exchange({**request, "on": box})
    finally:
        grader_end.close()
        worker_end.close()
        for filename in set(linecache.cache) - cached:
            del linecache.cache[filename]
        random.setstate(saved[0])
        numpy.random.set_state(saved[1])
        if torch is not None:
            torch.set_rng_state(saved[2])


def run(sock: socket.socket, scratch: str, quota: bool = False) -> None:
    """Everything a worker does, from its configuration to the last answer.

    scratch: the folder the zygote made for this worker; quota: whether it is a
    size-limited tmpfs.
    """
    channel = Channel(sock)  # a configuration is plain data
    config = channel.receive()
    if not isinstance(config, dict) or config.get("kind") != "config":
        return
    table = ObjectTable(config["module_name"])
    channel.encoder, channel.decoder = codec.Encoder(table.register), codec.Decoder(table.resolve)
    submission = Submission(config["module_name"], config["units"])

    os.chdir(scratch)
    os.environ.clear()
    os.environ.update({**config.get("env", {}), "HOME": scratch, "TMPDIR": scratch})
    sys.dont_write_bytecode = True
    threads = int(config.get("threads", 1))
    hooks.when_imported("torch", lambda: configure_torch(threads))
    policy = hardening.Policy(
        scratch=scratch,
        readable=tuple(config.get("readable", ())),
        protected=tuple(config.get("protected", ())),
        memory_bytes=config.get("memory_bytes"),
        file_bytes=config.get("file_bytes", 64 * 1024 * 1024),
        cpu=config["cpu"] if isinstance(config.get("cpu"), int) else None,
    )
    protection = hardening.apply(policy, submission.filenames, quota)

    parsed, notes = parse(submission)
    findings = read_rules(parsed, config.get("rules", {}))
    channel.send(protocol.analysis_message(protection, findings_data(findings)))

    tracing.arm()  # before any student code: entry points it captures at load time are the watched ones
    probes = load_probes(config.get("probes"))
    integrity = Integrity(tracing, hooks) if config.get("rules") else None
    hide_grader_modules()
    sys.modules[submission.module.__name__] = submission.module
    submission.module.__file__ = config["units"][0]["filename"] if config["units"] else None
    if any(unit["label"] for unit in config["units"]):  # notebook cells: display, get_ipython as in Jupyter
        ipython_shim.install(submission.module.__dict__)
    started = time.perf_counter()
    notes += run_units(submission)
    if integrity is not None and integrity.broken():
        notes.append({"kind": "exception", "where": "",
                      "text": "Your code changed the grader's own code while it loaded, so every function this "
                              "exercise watches earns no points."})
        integrity.tampered_at_load = True
    send(channel, protocol.loaded_message(notes, _defined_names(submission.module), time.perf_counter() - started))
    Server(channel, submission, table, probes, integrity).serve()


SCAN_SECONDS = 10.0


class _TooLong(Exception):
    pass


def read_rules(parsed: list[staticscan.Unit], rules: dict[str, list[str]]) -> dict:
    """The static reading, bounded: source it cannot read in time, or that nests too deeply, is its finding.

    The reading runs before any student code, but on the student's source: a
    file built to make it recurse or take minutes must not make the worker die
    before it reports (which would be the grader's fault), nor pass unread.
    """
    def stop(signum, frame):
        raise _TooLong

    previous = signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, SCAN_SECONDS)
    try:
        return staticscan.scan(parsed, rules)
    except (_TooLong, RecursionError, MemoryError) as exc:
        why = (f"the grader could not read this file's code within {SCAN_SECONDS:g} s" if isinstance(exc, _TooLong)
               else "the grader could not read this file's code: its expressions nest too deeply")
        return {rule: {name: [staticscan.Finding(name, "", "", f"{why}; simplify it")] for name in functions}
                for rule, functions in rules.items()}
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


class Integrity:
    """Whether the modules that watch student code are still what they were before it ran.

    Student code runs in the same process as the watching code, so it could
    replace a function of the tracer and then compute as it likes. The worker
    takes a fingerprint of those modules (the functions and classes they bind,
    every class's attributes, every function's code) before the submission runs and checks
    it after loading and after each watched call; a change takes the points of
    every function the rule watches. A change undone before the call returns is
    for the static reading to find (it looks for code reaching into modules).
    """

    def __init__(self, *modules: types.ModuleType) -> None:
        self.modules = modules
        self.tampered_at_load = False
        # Only what the modules define themselves is watched (their functions and classes, and each
        # class's attributes), and each check reads just those: every object a worker touches is a
        # page it copies from the zygote, and in batch grading that page is 2 MB.
        self.names = [(module, name) for module in modules for name, value in vars(module).items()
                      if getattr(value, "__module__", None) == module.__name__
                      and isinstance(value, (type, types.FunctionType))]
        self.fingerprint = self._take()

    def _take(self) -> list:
        # The objects themselves, compared by identity: id() is an audited call (the audit hook runs
        # for each one), and == could be answered by an object student code put in a function's place.
        prints: list = []
        for module, name in self.names:
            value = getattr(module, name, None)
            prints.append(value)
            if isinstance(value, type):
                prints.extend(vars(value).values())
            elif isinstance(value, types.FunctionType):
                prints.append(value.__code__)
        return prints

    def broken(self) -> bool:
        if self.tampered_at_load:
            return True
        try:
            now = self._take()
        except Exception:  # a module's namespace made unreadable counts as changed
            return True
        return len(now) != len(self.fingerprint) or any(a is not b for a, b in zip(now, self.fingerprint))


def hide_grader_modules() -> None:
    """Take the grader's modules out of sys.modules before student code runs.

    The worker keeps its own references; an import of any of them by student
    code is then a real import, which the audit hook refuses.
    """
    for name in [n for n in sys.modules if n == "grader" or n.startswith("grader.")]:
        del sys.modules[name]


def findings_data(findings: dict[str, dict[str, list[staticscan.Finding]]]) -> dict[str, dict[str, list[dict]]]:
    """The static scan's findings as plain data, the form the grader reads them in."""
    return {rule: {name: [vars(f) for f in found] for name, found in by_name.items()}
            for rule, by_name in findings.items()}


def _defined_names(module: types.ModuleType) -> dict[str, str]:
    names = {}
    for name, value in list(vars(module).items())[:2000]:
        if name.startswith("__"):
            continue
        if isinstance(value, type):
            names[name] = "class"
        elif callable(value):
            names[name] = "function"
        elif isinstance(value, types.ModuleType):
            names[name] = "module"
        else:
            names[name] = codec.type_name(value)
    return names


def configure_torch(threads: int) -> None:
    """Reproducible PyTorch: no TF32, deterministic algorithms where they exist, a fixed thread count."""
    torch = sys.modules["torch"]
    torch.set_num_threads(max(1, threads))
    hooks.reproducible_torch(torch)


def seed_everything(seed: int) -> None:
    """The same seed for every generator a submission might draw from."""
    random.seed(seed)
    import numpy

    numpy.random.seed(seed % 2**32)
    torch = sys.modules.get("torch")
    if torch is not None:
        # torch.manual_seed also seeds every accelerator backend it knows, 160 us a call;
        # the CPU generator, and CUDA's once it is in use, are what code can draw from here.
        torch.default_generator.manual_seed(seed)
        if torch.cuda.is_initialized():
            torch.cuda.manual_seed_all(seed)


def load_probes(spec: dict | None) -> dict[str, Any]:
    """The assignment's probe functions: grader code that drives student code inside the worker.

    They are loaded before the submission runs, from source the grader sent,
    into a namespace the submission is never given. A probe is a function
    whose first parameter is named ``student`` (it receives the submission's
    module); other functions in the file are helpers.
    """
    if not spec:
        return {}
    namespace: dict[str, Any] = {"__name__": "_grader_probes"}
    exec(compile(spec["source"], spec["filename"], "exec"), namespace)
    return {name: value for name, value in namespace.items() if isinstance(value, types.FunctionType)
            and value.__module__ == "_grader_probes" and value.__code__.co_varnames[:1] == ("student",)}
