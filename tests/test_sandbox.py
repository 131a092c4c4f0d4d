"""The sandbox: student code runs in a locked-down worker and only data comes back."""

import linecache
import mmap
import os
import random
import sys
import textwrap
import time

import numpy as np
import pytest

from grader.sandbox import faults, tracing, worker
from grader.sandbox.client import ForkServer
from grader.sandbox.codec import RemoteRef
from grader.sandbox.layers import landlock
from grader.sandbox.session import Limits, Session, Unit

from .conftest import zygote_pid

LIMITS = Limits(call_timeout=2.0, load_timeout=5.0, memory_mb=256, output_kb=4)


@pytest.fixture
def start(server, tmp_path):
    sessions = []

    def make(source, *, limits=LIMITS, protected=(), readable=(), rules=None, probes=None):
        probe_unit = Unit("", "probes.py", textwrap.dedent(probes)) if probes else None
        session = Session(server, [Unit("", "student.py", textwrap.dedent(source))], "student", limits=limits,
                          protected=tuple(str(p) for p in protected), readable=tuple(str(p) for p in readable),
                          rules=rules, probes=probe_unit)
        sessions.append(session)
        session.start()
        return session

    yield make
    for session in sessions:
        session.close()


def call(session, name, *args, on=None, timeout=None, **options):
    message = {"op": "call", "on": on, "path": [name], "args": list(args), "kwargs": {}, **options}
    return session.request(message, name, timeout)


def test_values_go_in_and_come_back_as_data(start):
    session = start("def f(x, y):\n    return x * 2, {'sum': float(y.sum())}\n")
    reply = call(session, "f", np.arange(3.0), np.ones((2, 2)))
    doubled, info = reply.value
    assert np.array_equal(doubled, [0.0, 2.0, 4.0]) and info == {"sum": 4.0}


def test_messages_many_reads_long_arrive_whole(start):
    session = start("def twice(x):\n    return x, x[::-1].copy()\n")
    x = np.random.default_rng(0).standard_normal(400_000)  # 3.2 MB each way, 6.4 MB back
    same, reversed_ = call(session, "twice", x).value
    assert np.array_equal(same, x) and np.array_equal(reversed_, x[::-1])
    assert call(session, "twice", np.arange(3.0)).value[1].tolist() == [2.0, 1.0, 0.0]  # and the next one too


def test_arguments_after_the_call_are_reported_on_request(start):
    session = start("def f(x):\n    x[0] = 99\n")
    reply = call(session, "f", np.zeros(2), return_args=True)
    assert np.array_equal(reply.args[0], [99.0, 0.0])


def test_objects_stay_in_the_worker_and_are_used_by_reference(start):
    session = start("""
        class Counter:
            def __init__(self):
                self.count = 1
            def add(self, n):
                self.count += n
                return self.count
    """)
    counter = call(session, "Counter").value
    assert isinstance(counter, RemoteRef) and counter.type_name == "Counter"
    assert call(session, "add", 5, on=counter).value == 6
    session.request({"op": "set", "on": counter, "path": ["count"], "value": 10}, "Counter.count")
    assert session.request({"op": "get", "on": counter, "path": ["count"]}, "Counter.count").value == 10


def test_exceptions_come_back_with_student_frames_only(start):
    session = start("""
        def inner(x):
            return x[10]

        def f(x):
            return inner(x)
    """)
    with pytest.raises(faults.StudentRaised) as caught:
        call(session, "f", np.zeros(3))
    fault = caught.value
    assert fault.type_name == "IndexError" and fault.is_a("LookupError")
    assert [frame["function"] for frame in fault.frames] == ["f", "inner"]
    assert fault.frames[-1]["where"] == "line 3" and fault.frames[-1]["code"] == "return x[10]"
    assert "IndexError: index 10 is out of bounds" in fault.explain()
    assert "out of bounds" not in fault.explain_briefly()  # hidden checks never echo the student's message


def test_missing_names_are_reported_as_missing(start):
    session = start("def g():\n    pass\n")
    with pytest.raises(faults.MissingName):
        call(session, "f")


def test_a_crash_starts_a_fresh_worker_and_old_objects_are_lost(start):
    session = start("""
        import os
        class Box:
            pass
        def die():
            os.kill(os.getpid(), 9)
        def ok():
            return 1
    """)
    box = call(session, "Box").value
    generation = session.generation
    with pytest.raises(faults.StudentCrashed) as caught:
        call(session, "die")
    assert "SIGKILL" in caught.value.explain()
    assert call(session, "ok").value == 1 and session.generation == generation + 1
    with pytest.raises(faults.LostObject):
        session.check_ref(box, generation, "Box.x")


def test_timeouts_stop_the_worker_and_are_not_waited_for_twice(start):
    session = start("def spin():\n    while True:\n        pass\n")
    with pytest.raises(faults.StudentTimeout) as first:
        call(session, "spin")
    assert not first.value.earlier and first.value.status == "timeout"
    with pytest.raises(faults.StudentTimeout) as second:
        call(session, "spin")
    assert second.value.earlier


def test_memory_beyond_the_limit_is_refused(start):
    session = start("def hog():\n    return bytearray(600 * 1024 * 1024)\n")
    with pytest.raises(faults.StudentOutOfMemory) as caught:
        call(session, "hog")
    assert "256 MB" in caught.value.explain()


def test_output_is_drained_kept_up_to_the_cap_and_counted(start):
    session = start("def noisy():\n    print('a' * 10000)\n    return 1\n")
    assert call(session, "noisy").value == 1
    text, total = session.take_output()
    assert total == 10001 and len(text) == 4 * 1024


def test_loading_that_never_ends_breaks_the_submission(start):
    session = start("while True:\n    pass\n", limits=Limits(call_timeout=1, load_timeout=1))
    assert session.loaded.broken is not None and session.loaded.broken.status == "timeout"
    with pytest.raises(faults.SubmissionBroken, match="did not finish within 1 s"):
        call(session, "f")


def test_garbage_on_the_channel_is_a_protocol_violation(start):
    session = start("""
        import os, stat
        def scribble():
            for fd in range(3, 64):
                try:
                    if stat.S_ISSOCK(os.fstat(fd).st_mode):
                        os.write(fd, b"\\xff" * 16)
                except OSError:
                    pass
            import time
            time.sleep(5)
    """)
    with pytest.raises(faults.ProtocolViolation):
        call(session, "scribble")


def test_the_environment_is_scrubbed(start, monkeypatch):
    monkeypatch.setenv("GITHUB_TOKEN", "secret-token")
    session = start("import os\ndef env():\n    return dict(os.environ)\n")
    env = call(session, "env").value
    assert "GITHUB_TOKEN" not in env and env["HOME"] == env["TMPDIR"]


def test_protected_paths_cannot_be_read_or_listed(start, tmp_path):
    secret = tmp_path / "secret"
    secret.mkdir()
    (secret / "answer.txt").write_text("42")
    session = start("""
        import os
        def read(path):
            return open(path).read()
        def listing(path):
            return os.listdir(path)
    """, protected=[secret])
    for name in ("read", "listing"):
        target = secret / "answer.txt" if name == "read" else secret
        with pytest.raises(faults.StudentRaised) as caught:
            call(session, name, str(target))
        assert caught.value.is_a("SandboxViolation")


def test_writes_are_allowed_only_in_the_workers_own_folder(start, tmp_path):
    session = start("""
        def write(path):
            with open(path, "w") as f:
                f.write("x")
            return open(path).read()
    """)
    assert call(session, "write", "local.txt").value == "x"
    with pytest.raises(faults.StudentRaised) as caught:
        call(session, "write", str(tmp_path / "outside.txt"))
    assert caught.value.is_a("SandboxViolation") and not (tmp_path / "outside.txt").exists()


def test_network_and_signals_to_others_are_refused(start):
    session = start("""
        import os, socket
        def connect():
            socket.create_connection(("127.0.0.1", 9), timeout=1)
        def kill_parent():
            os.kill(os.getppid(), 0)
    """)
    for name in ("connect", "kill_parent"):
        with pytest.raises(faults.StudentRaised) as caught:
            call(session, name)
        assert caught.value.is_a("SandboxViolation"), name


@pytest.mark.skipif(os.name != "posix" or os.geteuid() != 0, reason="only root can run workers as another user")
def test_as_root_student_code_runs_as_an_unprivileged_user(start, world_dir):
    secret = world_dir / "root-only.txt"
    secret.write_text("staff only")
    secret.chmod(0o600)
    session = start("""
        import os
        def whoami():
            return os.getuid(), os.getgid(), os.getgroups()
        def write_here():
            with open("mine.txt", "w") as f:
                f.write("ok")
            return open("mine.txt").read()
    """)
    assert session.loaded.protection["user"] == "user nobody"
    assert call(session, "whoami").value == (65534, 65534, [])
    assert call(session, "write_here").value == "ok"


KERNEL = pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="Linux kernel layers only")


def _landlock_available():
    return landlock.abi() > 0


# Code compiled under a library's file name looks trusted to the audit hook, so
# only the kernel layers stand between it and the forbidden operation.
DISGUISED = """
import ctypes, os, numpy
code = '''
libc = ctypes.CDLL(None, use_errno=True)
def raw_open(path, flags):
    fd = libc.open(path.encode(), flags, 0o644)
    return fd, ctypes.get_errno()
def raw_fork():
    return libc.fork(), ctypes.get_errno()
def raw_kill(pid):
    return libc.kill(pid, 0), ctypes.get_errno()
def raw_socket():
    return libc.socket(2, 1, 0), ctypes.get_errno()
'''
exec(compile(code, os.path.join(os.path.dirname(numpy.__file__), "disguised.py"), "exec"))
"""


@KERNEL
@pytest.mark.skipif(not _landlock_available(), reason="needs Landlock (Linux 5.13+)")
def test_landlock_refuses_reads_and_writes_even_past_the_audit_hook(start, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("42")
    session = start(DISGUISED, protected=[secret])
    assert call(session, "raw_open", str(secret), os.O_RDONLY).value[0] == -1
    assert call(session, "raw_open", str(tmp_path / "new.txt"), os.O_WRONLY | os.O_CREAT).value[0] == -1
    assert not (tmp_path / "new.txt").exists()


@KERNEL
@pytest.mark.skipif(not _landlock_available(), reason="needs Landlock (Linux 5.13+)")
def test_workers_read_by_allow_list_and_keep_none_of_the_zygotes_descriptors(start, world_dir):
    tmp_path = world_dir  # a folder any user may enter: as root, workers run as nobody
    secret, public, elsewhere = tmp_path / "secret.txt", tmp_path / "public", tmp_path / "elsewhere.txt"
    secret.write_text("42")
    public.mkdir(mode=0o755)
    (public / "data.txt").write_text("7")
    elsewhere.write_text("home folder file")
    source = DISGUISED + (
        "def descriptors():\n    return sorted(int(n) for n in os.listdir('/proc/self/fd'))\n"
        "def beside_own_folder():\n    return os.path.join(os.path.dirname(os.getcwd()), 'intruder.txt')\n")
    for _ in range(3):
        session = start(source, protected=[secret], readable=[public])
        assert call(session, "raw_open", str(secret), os.O_RDONLY).value[0] == -1
        assert call(session, "raw_open", str(elsewhere), os.O_RDONLY).value[0] == -1  # not on the list
        assert call(session, "raw_open", str(public / "data.txt"), os.O_RDONLY).value[0] >= 0
        assert call(session, "raw_open", os.path.join(os.path.dirname(np.__file__), "__init__.py"),
                    os.O_RDONLY).value[0] >= 0
        assert call(session, "raw_open", str(tmp_path / "new.txt"), os.O_WRONLY | os.O_CREAT).value[0] == -1
        beside = call(session, "beside_own_folder").value
        assert call(session, "raw_open", beside, os.O_WRONLY | os.O_CREAT).value[0] == -1
        assert call(session, "raw_open", "scratch.txt", os.O_WRONLY | os.O_CREAT).value[0] >= 0
        # stdin, stdout, stderr, the channel, the three files just opened and the one listing the folder
        assert len(call(session, "descriptors").value) == 8
        session.close()
    assert not (tmp_path / "new.txt").exists()


@KERNEL
def test_seccomp_refuses_processes_signals_and_sockets_even_past_the_audit_hook(start):
    session = start(DISGUISED)
    assert call(session, "raw_fork").value[0] == -1
    assert call(session, "raw_kill", -1).value[0] == -1
    assert call(session, "raw_kill", os.getpid()).value[0] == -1
    assert call(session, "raw_socket").value[0] == -1


def _state(pid: int) -> str | None:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return None


def _huge_pages_can_be_made() -> bool:
    try:
        with mmap.mmap(-1, 6 << 20, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS) as region:
            region.write(b"x" * len(region))
            region.madvise(25)  # MADV_COLLAPSE, Linux 6.1+
    except (OSError, ValueError, AttributeError):
        return False
    return os.path.exists("/proc/self/smaps_rollup")


def _huge_kb(pid: int) -> int:
    with open(f"/proc/{pid}/smaps_rollup") as rollup:
        return next(int(line.split()[1]) for line in rollup if line.startswith("AnonHugePages:"))


@pytest.mark.skipif(not _huge_pages_can_be_made(), reason="needs MADV_COLLAPSE (Linux 6.1+)")
def test_a_zygote_that_will_fork_many_workers_keeps_its_memory_in_huge_pages(tmp_path):
    with ForkServer(("numpy",), many=True) as server:
        server.start()
        assert _huge_kb(zygote_pid(server)) >= 2048
        session = Session(server, [Unit("", "student.py", "def f():\n    return 1\n")], "student", limits=LIMITS)
        try:
            assert call(session, "f").value == 1  # and its workers work as any other
        finally:
            session.close()


def test_the_zygotes_rehearsal_leaves_nothing_behind_that_a_worker_could_notice():
    torch = pytest.importorskip("torch")
    random.seed(7)
    np.random.seed(7)
    torch.manual_seed(7)

    def state():
        return (random.getstate(), np.random.get_state()[1].tolist(), torch.get_rng_state().tolist(),
                set(sys.modules), set(linecache.cache), sys.gettrace(), sys.getprofile(), list(sys.meta_path))

    tracing.arm()  # the zygote arms the autograd watch before it rehearses; every worker keeps it armed
    before = state()
    worker.rehearse()
    assert state() == before


@pytest.mark.skipif(not os.path.isdir("/proc/self/task"), reason="counts threads in /proc")
def test_a_zygote_forks_from_a_single_thread_even_where_workers_use_several():
    pytest.importorskip("torch")
    with ForkServer(("numpy", "torch"), threads=2, many=True) as server:
        session = Session(server, [Unit("", "student.py", "def f():\n    return 1\n")], "student", limits=LIMITS,
                          threads=2)
        try:
            assert call(session, "f").value == 1
            # OpenBLAS's threads (started with NumPy) end at the first fork, by its own design;
            # nothing may start one that stays.
            assert os.listdir(f"/proc/{zygote_pid(server)}/task") == [str(zygote_pid(server))]
        finally:
            session.close()


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="reads process states from /proc")
def test_closing_a_session_kills_the_worker_and_the_zygote_collects_it(start):
    session = start("def ok():\n    return 1\n")
    call(session, "ok")
    pid = session.worker.host_pid
    session.close()
    deadline = time.monotonic() + 5
    while _state(pid) not in (None, "Z") and time.monotonic() < deadline:
        time.sleep(0.01)  # SIGKILL was sent; tearing down a large process takes a moment
    assert _state(pid) in (None, "Z")
    start("def ok():\n    return 1\n")  # the zygote's next request collects ended workers
    assert _state(pid) is None


def test_autograd_is_watched_even_when_the_call_itself_imports_torch(start):
    session = start("""
        def by_hand(x):
            return [2 * v for v in x]

        def by_autograd(x):
            import torch
            t = torch.tensor(x, requires_grad=True)
            (t ** 2).sum().backward()
            return t.grad.tolist()
    """, rules={"autograd": ("by_hand", "by_autograd")})
    assert session.loaded.findings["autograd"]["by_autograd"]
    assert "by_hand" not in session.loaded.findings["autograd"]
    hand = call(session, "by_hand", [1.0, 2.0], trace=["autograd"])
    assert hand.value == [2.0, 4.0] and hand.trace == {}
    for _ in range(2):  # the first call imports torch, the second finds it loaded
        traced = call(session, "by_autograd", [1.0, 2.0], trace=["autograd"], timeout=60)  # a cold torch import
        assert traced.value == [2.0, 4.0]
        assert traced.trace["autograd"]["torch.autograd.backward"] == 1


def test_whole_array_work_is_traced_per_call(start):
    session = start("def add(x, y):\n    return x + y\n", rules={"loops": ("add",)})
    reply = call(session, "add", np.ones(3), np.ones(3), trace=["loops"])
    assert reply.trace == {"loops": {"numpy.add": 1}}
    assert session.loaded.findings["loops"]["add"][0]["code"] == "x + y"


def test_probes_drive_student_code_and_only_student_first_functions_are_probes(start):
    session = start("def f(x):\n    return x + 1\n", probes="""
        def twice(student, x):
            return helper(student.f(x))

        def helper(value):
            return value * 2
    """)
    assert session.request({"op": "probe", "name": "twice", "args": [3]}, "f").value == 8
    with pytest.raises(faults.ProtocolViolation):
        session.request({"op": "probe", "name": "helper", "args": [3]}, "f")


def test_a_seed_makes_random_code_reproducible(start):
    session = start("import random\nimport numpy as np\n"
                    "def draw():\n    return random.random(), float(np.random.rand())\n")
    first = call(session, "draw", seed=7).value
    assert call(session, "draw", seed=7).value == first
    assert call(session, "draw", seed=8).value != first
