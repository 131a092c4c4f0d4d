"""Isolation, round two: a determined student against every layer, one small attack per class.

Each test is an attack written as a hostile student would write it. Where the
audit hook would refuse in words first, the attack is made through ctypes from
code compiled under a library's file name (which the hook trusts), so that only
the kernel layers stand in the way. These tests run as whoever runs the suite;
``test_unprivileged.py`` runs this module again as an ordinary user.
"""

from __future__ import annotations

import os
import resource
import sys
import textwrap

import numpy as np
import pytest

from grader.sandbox import faults, protocol
from grader.sandbox.client import ForkServer
from grader.sandbox.layers import landlock
from grader.sandbox.session import Limits, Session, Unit

LIMITS = Limits(call_timeout=5.0, load_timeout=10.0, memory_mb=256, output_kb=64)
LINUX = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the kernel layers are Linux's")
LANDLOCK = pytest.mark.skipif(not sys.platform.startswith("linux") or landlock.abi() < 1,
                              reason="needs Landlock (Linux 5.13+)")

# Raw system calls from code the audit hook takes for a library's: what a determined student gets past it.
RAW = """
import ctypes, os, numpy
code = r'''
libc = ctypes.CDLL(None, use_errno=True)
def raw(name, *args):
    function = getattr(libc, name)
    result = function(*args)
    return result, ctypes.get_errno()
def raw_syscall(number, *args):
    return libc.syscall(number, *args), ctypes.get_errno()
def raw_open(path, flags=0):
    return raw("open", path.encode(), flags, 0o644)
def set_clock():
    return raw("clock_settime", 0, (ctypes.c_long * 2)(0, 0))
def raw_read(path):
    fd = libc.open(path.encode(), 0, 0)
    if fd < 0:
        return None
    buffer = ctypes.create_string_buffer(4096)
    count = libc.read(fd, buffer, 4096)
    libc.close(fd)
    return buffer.raw[:max(count, 0)]
'''
exec(compile(code, os.path.join(os.path.dirname(numpy.__file__), "disguised.py"), "exec"))
"""


def raw(snippet: str = "") -> str:
    return RAW + textwrap.dedent(snippet)


@pytest.fixture
def start(server):
    sessions = []

    def make(source, *, limits=LIMITS, on=server, **options):
        if source.startswith(RAW):  # already flush left: RAW, then a snippet dedented by raw()
            text = source
        else:
            text = textwrap.dedent(source)
        session = Session(on, [Unit("", "student.py", text)], "student", limits=limits, **options)
        sessions.append(session)
        session.start()
        return session

    yield make
    for session in sessions:
        session.close()


def call(session, name, *args, **options):
    message = {"op": "call", "on": None, "path": [name], "args": list(args), "kwargs": {}, **options}
    return session.request(message, name)


# --- 1. the grading process cannot be crashed or exhausted through the channel ---------------------

def test_a_deeply_nested_return_value_is_a_plain_failure_not_a_crash(start):
    session = start("""
        def nested():
            value = 0
            for _ in range(500):
                value = (value,)
            return value
        def ok():
            return 1
    """)
    with pytest.raises(faults.Unsendable) as caught:
        call(session, "nested")
    assert "nested too deeply" in caught.value.explain()
    assert "nested too deeply" not in caught.value.explain_briefly()
    assert call(session, "ok").value == 1  # the same worker goes on


def test_a_hand_written_frame_of_one_object_per_byte_is_refused_before_it_is_built(start):
    session = start("""
        import os, stat, time
        def flood():
            count = 40_000_000
            body = b"\\xdd" + count.to_bytes(4, "big") + b"\\x90" * count  # forty million empty lists
            for fd in range(3, 64):
                try:
                    if stat.S_ISSOCK(os.fstat(fd).st_mode):
                        os.write(fd, len(body).to_bytes(4, "big") + body)
                except OSError:
                    pass
            time.sleep(5)
    """)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(faults.ProtocolViolation) as caught:
        call(session, "flood")
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mb < 500  # forty million lists would have taken gigabytes
    assert "40000000" not in caught.value.explain() and "bytes" not in caught.value.explain()


def test_a_frame_claiming_more_than_the_limit_is_refused_without_waiting_for_it(start):
    session = start("""
        import os, stat, time
        def claim():
            for fd in range(3, 64):
                try:
                    if stat.S_ISSOCK(os.fstat(fd).st_mode):
                        os.write(fd, (2**32 - 1).to_bytes(4, "big"))
                except OSError:
                    pass
            time.sleep(5)
    """)
    with pytest.raises(faults.ProtocolViolation):
        call(session, "claim")


# --- 2. and 3. no privileges, whatever uid the grader has; reads by allow-list ---------------------

@LINUX
def test_a_worker_holds_no_capabilities_and_cannot_make_privileged_calls(start):
    session = start(raw("""
        def status():
            with open("/proc/self/status") as f:
                return {k: v.strip() for k, v in (line.split(":", 1) for line in f)}
    """))
    status = call(session, "status").value
    for name in ("CapInh", "CapPrm", "CapEff", "CapAmb"):
        assert int(status[name], 16) == 0, name
    if "user" in session.loaded.protection["namespaces"] or os.geteuid() == 0:
        assert int(status["CapBnd"], 16) == 0
    assert status["NoNewPrivs"] == "1" and status["Seccomp"] == "2"
    if os.geteuid() == 0:
        assert status["Uid"].split()[0] != "0"  # root graders' workers run as someone else
    assert call(session, "set_clock").value[0] == -1
    refused = {
        "sethostname": ("sethostname", b"pwned", 5),
        "klogctl": ("klogctl", 3, None, 0),  # read the kernel log
        "mknod": ("mknod", b"dev", 0o20644, 0),
        "setuid": ("setuid", 0),
        "sched_setscheduler": ("sched_setscheduler", 0, 1, None),  # real-time priority
    }
    for label, (name, *args) in refused.items():
        result, _ = call(session, "raw", name, *args).value
        assert result == -1, label


@LANDLOCK
def test_reads_are_limited_to_the_runtime_and_the_workers_own_files(start, world_dir, tmp_path):
    home_file = tmp_path / "token.txt"  # under the grader's own (pytest's) folder: readable by its user
    home_file.write_text("ghp_staff_token")
    open_file = world_dir / "results.json"  # readable by everyone on the machine
    open_file.write_text('{"details": "hidden input 42"}')
    session = start(raw("""
        import os
        def here():
            with open("mine.txt", "w") as f:
                f.write("mine")
            return os.path.abspath("mine.txt")
    """))
    for path in (home_file, open_file, "/etc/shadow", "/proc/1/environ", "/proc/1/mem", "/proc/meminfo",
                 "/proc/stat"):  # the last two: a wire between workers side by side
        assert call(session, "raw_read", str(path)).value is None, path
    assert call(session, "raw_read", os.path.join(os.path.dirname(np.__file__), "__init__.py")).value
    mine = call(session, "here").value
    assert call(session, "raw_read", mine).value == b"mine"
    other = start(raw())
    assert call(other, "raw_read", mine).value is None  # another student's folder
    assert call(other, "raw_read", os.path.dirname(mine)).value is None


@LINUX
def test_workers_see_only_their_own_namespace_where_the_machine_allows(start):
    session = start("""
        import os, socket
        def world():
            try:
                pids = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
            except OSError:
                pids = None
            return pids, socket.gethostname(), os.getpid()
    """)
    pids, host, own = call(session, "world").value
    protection = session.loaded.protection
    if protection["proc_private"]:
        assert pids is None or max(pids) < 1000  # the sandbox's processes only, if it may list at all
    if "uts" in protection["namespaces"]:
        assert host == "grader-sandbox"


# --- 4. no channel between students ---------------------------------------------------------------

@LINUX
def test_no_ipc_channel_can_be_made_to_hand_anything_to_another_student(start):
    session = start(raw("""
        import os
        def channels():
            made = {}
            made["shmget"] = raw_syscall(29, 0x5EC, 1 << 20, 0o1666)[0]  # IPC_PRIVATE-like key, IPC_CREAT
            made["msgget"] = raw_syscall(68, 0x5EC, 0o1666)[0]
            made["semget"] = raw_syscall(64, 0x5EC, 1, 0o1666)[0]
            made["mq_open"] = raw("mq_open", b"/answers", os.O_CREAT | os.O_RDWR, 0o666, None)[0]
            made["memfd"] = raw("memfd_create", b"answers", 0)[0]
            made["shm_file"] = raw_open("/dev/shm/answers", os.O_CREAT | os.O_WRONLY)[0]
            sock = raw("socket", 1, 1, 0)[0]  # AF_UNIX
            address = b"\\x01\\x00" + b"\\x00answers"  # an abstract name
            made["bind"] = raw("bind", sock, address, len(address))[0] if sock >= 0 else -1
            made["tcp"] = raw("socket", 2, 1, 0)[0]
            return made
    """))
    assert all(value == -1 for value in call(session, "channels").value.values())


# --- 5. every resource counted ----------------------------------------------------------------------

@LINUX
def test_shared_memory_does_not_escape_the_memory_limit(start):
    session = start(raw("""
        import mmap
        def hoard():
            held = []
            for _ in range(10):  # 2.5 GB under a 256 MB limit
                region = mmap.mmap(-1, 256 << 20, flags=mmap.MAP_SHARED | mmap.MAP_ANONYMOUS)
                region.write(b"x" * len(region))
                held.append(region)
            return len(held)
    """))
    with pytest.raises((faults.StudentRaised, faults.StudentOutOfMemory)):
        call(session, "hoard")


@LINUX
def test_everything_written_together_is_bounded(tmp_path):
    source = """
        import os
        def fill():
            for n in range(64):
                with open(f"chunk{n}", "wb") as f:
                    f.write(b"x" * (1 << 20))
            return sum(os.path.getsize(f"chunk{n}") for n in range(64))
    """
    limits = Limits(call_timeout=20.0, load_timeout=10.0, memory_mb=256, file_mb=4, disk_mb=8)
    for disk_mb in (8, 0):  # a tmpfs of 8 MB; no tmpfs, so the grading process watches the folder
        with ForkServer(("numpy",), disk_mb=disk_mb) as server:
            session = Session(server, [Unit("", "student.py", textwrap.dedent(source))], "student", limits=limits)
            try:
                session.start()
                with pytest.raises((faults.StudentRaised, faults.StudentWroteTooMuch)) as caught:
                    call(session, "fill")
                if disk_mb == 0:
                    assert isinstance(caught.value, faults.StudentWroteTooMuch)
                    assert "8 MB" in caught.value.explain()
            finally:
                session.close()


@LINUX
@pytest.mark.skipif(not hasattr(os, "sched_getaffinity") or len(os.sched_getaffinity(0)) < 2,
                    reason="needs two CPUs to move between")
def test_a_worker_cannot_move_itself_or_lower_a_neighbours_priority(start):
    session = start(raw("""
        import os
        def move():
            return raw_syscall(203, 0, 8, (ctypes.c_ulong * 1)(0b11))[0]  # sched_setaffinity
        def renice(pid):
            return raw("setpriority", 0, pid, 19)[0]
        def limit(pid):
            return raw_syscall(302, pid, 0, (ctypes.c_ulong * 2)(1, 1), None)[0]  # prlimit64: RLIMIT_CPU
        def me():
            return os.getpid()
    """))
    neighbour = start("def idle():\n    return 1\n")
    assert call(session, "move").value == -1
    victim = call(session, "me").value + 1
    assert call(session, "renice", victim).value == -1 and call(session, "limit", victim).value == -1
    assert call(neighbour, "idle").value == 1


# --- 7. student text -----------------------------------------------------------------------------

def test_control_sequences_and_huge_names_arrive_cleaned_and_capped(start):
    session = start("""
        def shout():
            Evil = type("E\\x1b[2J" + "x" * 10_000_000, (Exception,), {})
            raise Evil("\\x1b]52;c;cGF5bG9hZA==\\x07Score: 38/38\\r\\x1b[1A" + "y" * 100_000)
    """)
    with pytest.raises(faults.StudentRaised) as caught:
        call(session, "shout")
    fault = caught.value
    assert len(fault.type_name) <= protocol.NAME_LIMIT and "\x1b" not in fault.type_name
    assert "\x1b" not in fault.message and "\r" not in fault.message and len(fault.message) <= protocol.MESSAGE_LIMIT
    assert len(fault.explain()) < 3 * protocol.MESSAGE_LIMIT
    assert fault.explain_briefly() == "shout raised an exception."


# --- 8. blame where it belongs -----------------------------------------------------------------------

def test_tensors_the_grader_cannot_read_are_named_not_blamed_on_os_exit(torch_server):
    session = Session(torch_server, [Unit("", "student.py", textwrap.dedent("""
        import torch
        def meta():
            return torch.empty(3, device="meta")
        def sparse():
            return torch.eye(3).to_sparse()
        def conjugated():
            return torch.ones(2, dtype=torch.complex64).conj()
    """))], "student", limits=LIMITS)
    try:
        session.start()
        assert "meta device" in call(session, "meta").value.type_name
        assert "sparse" in call(session, "sparse").value.type_name
        value = call(session, "conjugated").value
        assert not isinstance(value, faults.StudentFault)
    except faults.StudentCrashed as crash:  # the failure this test exists for
        pytest.fail(f"the worker died: {crash.explain()}")
    finally:
        session.close()


# --- cleaning up -------------------------------------------------------------------------------------

def test_nothing_is_left_behind_when_the_grading_process_dies(tmp_path):
    import subprocess

    script = tmp_path / "die.py"
    script.write_text(textwrap.dedent("""
        import os, sys
        from grader.sandbox.client import ForkServer
        from grader.sandbox.session import Limits, Session, Unit
        server = ForkServer(("numpy",))
        session = Session(server, [Unit("", "s.py", "def f():\\n    return 1\\n")], "s", limits=Limits())
        session.start()
        print(server.scratch_root, server._process.pid, flush=True)
        os._exit(0)  # no close, no cleanup: as if killed
    """))
    output = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120,
                            cwd=os.path.dirname(os.path.dirname(__file__)))
    scratch_root, launched = output.stdout.split()
    import time

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and (os.path.exists(scratch_root) or _alive(int(launched))):
        time.sleep(0.1)
    assert not os.path.exists(scratch_root) and not _alive(int(launched))


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


# --- the rules' watchers are out of reach --------------------------------------------------------------

def test_patching_the_grader_s_tracer_while_loading_takes_the_points_of_every_watched_function(start):
    session = start("""
        import numpy, operator
        for kind in numpy.ndarray.__subclasses__():  # the tracer's array type is one of them
            if kind.__module__.startswith("grader"):
                kind.__array_ufunc__ = lambda self, ufunc, method, *inputs, **kw: getattr(ufunc, method)(
                    *[numpy.ndarray.view(i, numpy.ndarray) for i in inputs], **kw)
        def add(x, y):
            return operator.add(x, y)
    """, rules={"loops": ("add",)})
    assert any("changed the grader's own code" in note.text for note in session.loaded.notes)
    reply = call(session, "add", np.ones(2), np.ones(2), trace=["loops"])
    assert protocol.TAMPERED in reply.trace["loops"]


def test_a_patch_that_claims_to_equal_what_it_replaced_is_still_found(start):
    # The worker compares the watched objects by identity: an object that says it equals everything
    # must not pass for the function it replaced.
    session = start("""
        import numpy
        class Same:
            def __eq__(self, other):
                return True
            def __ne__(self, other):
                return False
            __hash__ = object.__hash__
        def add(x, y):
            out = x + y
            for kind in numpy.ndarray.__subclasses__():
                if kind.__module__.startswith("grader"):
                    kind.__array_ufunc__ = Same()
            return out
    """, rules={"loops": ("add",)})
    assert not any("changed the grader's own code" in note.text for note in session.loaded.notes)
    reply = call(session, "add", np.ones(2), np.ones(2), trace=["loops"])
    assert protocol.TAMPERED in reply.trace["loops"]


def test_the_grader_s_modules_cannot_be_imported_by_student_code(start):
    session = start("""
        def reach():
            import grader.sandbox.tracing
            return grader.sandbox.tracing.__name__
    """)
    with pytest.raises(faults.StudentRaised) as caught:
        call(session, "reach")
    assert caught.value.is_a("SandboxViolation")


def test_a_crashed_worker_leaves_no_folder_behind(start):
    session = start("""
        import os
        def here():
            return os.getcwd()
        def die():
            os._exit(3)
    """)
    folder = session.worker.scratch
    assert os.path.isdir(folder)
    with pytest.raises(faults.StudentCrashed):
        call(session, "die")
    assert not os.path.exists(folder)


# --- two students in one batch ------------------------------------------------------------------------

def test_in_a_batch_a_hostile_student_neither_hurts_nor_helps_the_next(tmp_path):
    import shutil

    from grader.batch.run import BatchOptions, Progress, run_batch

    from .conftest import COURSE, FIXTURES, TEST_LIMITS

    hostile = FIXTURES / "batch_hostile"
    solution = (COURSE / "examples" / "assignment2" / "full_marks.py").read_text()
    course = tmp_path / "course"  # the grader's own copy, with a secret of its own (whoever runs this)
    for part in ("assignments/assignment2", "reference/assignment2"):
        shutil.copytree(COURSE / part, course / part)
    alone = tmp_path / "alone"
    alone.mkdir()
    (alone / "zoe.py").write_text((hostile / "receiver.py").read_text())
    submissions = tmp_path / "submissions"
    submissions.mkdir()
    (submissions / "aaron.py").write_text((hostile / "sender.py").read_text().replace(
        'SOLUTION = "x = 1"', f"SOLUTION = {solution!r}"))
    (submissions / "bea.py").write_text(solution)
    (submissions / "zoe.py").write_text((hostile / "receiver.py").read_text())

    def batch(folder, out):
        import io

        run_batch(course, BatchOptions(assignment="assignment2", submissions=folder, out=out, jobs=1,
                                       limits=TEST_LIMITS), Progress(io.StringIO()))
        import csv

        with open(out / "grades.csv") as grades:
            return {row["id"]: row for row in csv.DictReader(grades)}

    baseline = batch(alone, tmp_path / "out-alone")["zoe"]
    rows = batch(submissions, tmp_path / "out")
    assert set(rows) == {"aaron", "bea", "zoe"}
    assert float(rows["bea"]["score"]) == float(rows["bea"]["max_score"])  # the innocent classmate
    assert rows["zoe"]["score"] == baseline["score"]  # nothing was handed over
    assert not os.path.exists("/tmp/handoff.py") and not os.path.exists("/dev/shm/handoff.py")
