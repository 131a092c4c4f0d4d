"""The pieces of the worker lock-down that can be checked without a worker (grader.sandbox.layers)."""

import os
import struct
import sys

import pytest

from grader.sandbox.layers import identity, landlock, seccomp

LINUX = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux kernel layers")


def test_carving_covers_everything_under_a_root_but_the_protected_paths(tmp_path):
    (tmp_path / "course" / "reference" / "hw").mkdir(parents=True)
    (tmp_path / "course" / "assignments").mkdir()
    (tmp_path / "course" / "README.md").write_text("")
    (tmp_path / "course" / "secret.txt").write_text("")
    (tmp_path / "elsewhere").mkdir()
    protected = (str(tmp_path / "course" / "reference"), str(tmp_path / "course" / "secret.txt"))
    roots = landlock.carved(str(tmp_path), protected)
    assert sorted(roots) == sorted(str(tmp_path / p) for p in ("course/README.md", "course/assignments", "elsewhere"))


def test_links_into_protected_paths_are_not_granted(tmp_path):
    (tmp_path / "reference").mkdir()
    (tmp_path / "shortcut").symlink_to(tmp_path / "reference")
    (tmp_path / "fine").symlink_to(tmp_path / "other")
    roots = landlock.carved(str(tmp_path), (str(tmp_path / "reference"),))
    assert str(tmp_path / "shortcut") not in roots and str(tmp_path / "fine") in roots


def test_a_root_outside_every_protected_path_is_granted_whole(tmp_path):
    assert landlock.carved("/usr", (str(tmp_path / "x"),)) == ("/usr",)
    assert landlock.carved(str(tmp_path), (str(tmp_path),)) == ()


def test_the_allow_list_names_the_runtime_but_never_the_folder_that_holds_the_grader(tmp_path):
    import grader

    project = os.path.dirname(os.path.dirname(os.path.abspath(grader.__file__)))
    roots = landlock.runtime_roots()
    assert os.path.dirname(os.path.abspath(grader.__file__)) in roots
    assert project not in roots and "/" not in roots  # the project folder may hold reference/
    assert any(os.path.exists(os.path.join(root, "os.py")) for root in roots)  # the standard library
    reads = dict(landlock.fixed_reads())
    assert reads["/dev/null"] & landlock.WRITE_FILE and not any(
        rights & landlock.WRITE_FILE for path, rights in reads.items() if path != "/dev/null"
        and path not in landlock.gpu_devices())
    assert not any(path in ("/home", "/root", "/tmp", "/etc", "/proc", "/") for path in reads)


def _instructions(program: bytes):
    return [struct.unpack("=HBBI", program[i:i + 8]) for i in range(0, len(program), 8)]


@pytest.mark.parametrize("arch", ["x86_64", "aarch64"])
@pytest.mark.parametrize("shared_memory", [False, True])
def test_seccomp_program_checks_the_architecture_first_and_ends_in_returns(arch, shared_memory):
    program = _instructions(seccomp.program(arch, 1234, shared_memory))
    assert program[0] == (0x20, 0, 0, 4)  # load the architecture
    assert program[1][3] == seccomp.AUDIT_ARCH[arch]
    assert program[-1][0] == 0x06  # a return
    for index, (code, jt, jf, _) in enumerate(program):
        if code & 0x07 == 0x05:  # a jump: both targets inside the program
            assert index + 1 + max(jt, jf) < len(program)


@pytest.mark.parametrize("arch", ["x86_64", "aarch64"])
def test_every_refused_call_has_a_number_and_each_student_to_student_channel_is_refused(arch):
    numbers = seccomp.NUMBERS[arch]
    denied = seccomp.denied(arch)
    assert all(name in numbers for name in denied)
    for channel in ("shmget", "msgget", "semget", "mq_open", "bind", "connect", "memfd_create",
                    "sched_setaffinity", "setpriority", "settimeofday", "sethostname", "syslog", "mknodat"):
        assert channel in denied
    constants = {k for _, _, _, k in _instructions(seccomp.program(arch, 4321, False))}
    assert {numbers[name] for name in denied} <= constants


def test_seccomp_program_lets_a_worker_name_only_itself():
    program = _instructions(seccomp.program("x86_64", 4321, False))
    constants = [k for _, _, _, k in program]
    # kill (itself, or its own group), tgkill and sigqueueinfo (itself), prlimit64 (itself or 0)
    assert constants.count(4321) == 3 and (-4321) & 0xFFFFFFFF in constants


def test_shared_anonymous_memory_is_refused_unless_allowed():
    without = {k for _, _, _, k in _instructions(seccomp.program("x86_64", 1, False))}
    with_shared = {k for _, _, _, k in _instructions(seccomp.program("x86_64", 1, True))}
    mmap = seccomp.NUMBERS["x86_64"]["mmap"]
    assert mmap in without and mmap not in with_shared


def _as(monkeypatch, value=None, root=True):
    monkeypatch.setattr(identity.os, "geteuid", lambda: 0 if root else 1000)
    if value is None:
        monkeypatch.delenv(identity.SANDBOX_USER_ENV, raising=False)
    else:
        monkeypatch.setenv(identity.SANDBOX_USER_ENV, value)
    return identity.requested_identity()


@pytest.mark.skipif(not hasattr(os, "geteuid"), reason="POSIX users")
def test_as_root_workers_become_nobody_or_the_named_user(monkeypatch):
    assert _as(monkeypatch).name == "nobody"
    assert _as(monkeypatch, root=False) is None  # only root can switch
    assert _as(monkeypatch, "none") is None
    assert _as(monkeypatch, "nobody").uid == 65534
    with pytest.raises(identity.IdentityError, match="not a user"):
        _as(monkeypatch, "no-such-user-here")
    with pytest.raises(identity.IdentityError, match="root"):
        _as(monkeypatch, "root")


def test_reachability_follows_owner_group_and_other_bits(world_dir):
    # "nobody" here is anyone who neither owns the folders nor is in their group: when the suite itself runs
    # as nobody, nobody owns them, and another user takes that part.
    folder_owner = os.stat(world_dir)
    nobody = (identity.Identity("nobody", 65534, 65534) if 65534 not in (folder_owner.st_uid, folder_owner.st_gid)
              else identity.Identity("other", 4242, 4242))
    folder = world_dir / "a" / "b"
    folder.mkdir(parents=True)
    for path in (world_dir / "a", folder):
        path.chmod(0o755)
    assert identity.can_read(str(folder), nobody) and identity.blocked_ancestor(str(folder), nobody) is None
    (world_dir / "a").chmod(0o754)  # others may list a but not enter it
    assert not identity.can_read(str(folder), nobody)
    assert identity.blocked_ancestor(str(folder), nobody) == str(world_dir / "a")
    (world_dir / "a").chmod(0o711)  # enter, not list
    assert identity.can_enter(str(world_dir / "a"), nobody) and not identity.can_read(str(world_dir / "a"), nobody)
    owner = identity.Identity("owner", os.stat(world_dir).st_uid, 12345)
    (world_dir / "a").chmod(0o700)
    assert identity.can_read(str(folder), owner) and not identity.can_read(str(folder), nobody)


def _in_child(function) -> str:
    """Run function in a forked child (the kernel layers cannot be undone) and return what it says."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            outcome = function()
        except BaseException as exc:  # noqa: BLE001 - reported to the parent
            outcome = f"raised {type(exc).__name__}: {exc}"
        os.write(write_end, str(outcome).encode())
        os._exit(0)
    os.close(write_end)
    try:
        return os.read(read_end, 10_000).decode()
    finally:
        os.close(read_end)
        os.waitpid(pid, 0)


@LINUX
@pytest.mark.skipif(landlock.abi() < 1, reason="needs Landlock (Linux 5.13+)")
def test_landlock_allows_the_runtime_the_listed_paths_and_the_scratch_folder_only(tmp_path):
    scratch, extra, other = tmp_path / "scratch", tmp_path / "extra", tmp_path / "other.txt"
    scratch.mkdir()
    extra.mkdir()
    (extra / "x").write_text("x")
    other.write_text("secret")

    def attempt() -> str:
        version = landlock.apply(str(scratch), (str(extra),), ())
        results = []
        for path, flags in ((os.__file__, os.O_RDONLY), (str(extra / "x"), os.O_RDONLY), (str(other), os.O_RDONLY),
                            (str(scratch / "new"), os.O_WRONLY | os.O_CREAT),
                            (str(extra / "y"), os.O_WRONLY | os.O_CREAT),
                            ("/proc/self/status", os.O_RDONLY), ("/proc/1/status", os.O_RDONLY)):
            try:
                os.close(os.open(path, flags, 0o600))
                results.append("ok")
            except OSError:
                results.append("no")
        return f"{version} " + " ".join(results)

    version, *results = _in_child(attempt).split()
    assert int(version) >= 1
    assert results == ["ok", "ok", "no", "ok", "no", "ok", "no"]
