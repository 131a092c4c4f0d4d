"""The pieces of the worker lock-down that can be checked without a worker."""

import os
import struct
import sys

import pytest

from grader.errors import UsageError

from grader.sandbox import hardening


def test_readable_roots_cover_everything_but_the_protected_paths(tmp_path):
    (tmp_path / "course" / "reference" / "hw").mkdir(parents=True)
    (tmp_path / "course" / "assignments").mkdir()
    (tmp_path / "course" / "README.md").write_text("")
    (tmp_path / "course" / "secret.txt").write_text("")
    (tmp_path / "elsewhere").mkdir()
    protected = (str(tmp_path / "course" / "reference"), str(tmp_path / "course" / "secret.txt"))
    roots = hardening.readable_roots(protected, str(tmp_path))
    assert sorted(roots) == sorted(str(tmp_path / p) for p in ("course/README.md", "course/assignments", "elsewhere"))


def test_symlinks_into_protected_paths_are_not_granted(tmp_path):
    (tmp_path / "reference").mkdir()
    (tmp_path / "shortcut").symlink_to(tmp_path / "reference")
    (tmp_path / "fine").symlink_to(tmp_path / "other")
    roots = hardening.readable_roots((str(tmp_path / "reference"),), str(tmp_path))
    assert str(tmp_path / "shortcut") not in roots and str(tmp_path / "fine") in roots


def test_a_path_outside_every_protected_one_is_granted_whole(tmp_path):
    assert hardening.readable_roots((str(tmp_path / "x"),), "/usr") == ["/usr"]
    assert hardening.readable_roots((str(tmp_path),), str(tmp_path)) == []


def _instructions(program: bytes):
    return [struct.unpack("=HBBI", program[i:i + 8]) for i in range(0, len(program), 8)]


@pytest.mark.parametrize("arch", ["x86_64", "aarch64"])
def test_seccomp_program_checks_the_architecture_first_and_ends_in_returns(arch):
    program = _instructions(hardening._seccomp_program(arch, 1234))
    assert program[0] == (0x20, 0, 0, 4)  # load the architecture
    assert program[1][3] == hardening._AUDIT_ARCH[arch]
    assert program[-1][0] == 0x06 and program[-1][3] == 0x00050000 | 38  # the ENOSYS return
    for index, (code, jt, jf, _) in enumerate(program):
        if code & 0x07 == 0x05:  # a jump: both targets inside the program
            assert index + 1 + max(jt, jf) < len(program)


def test_seccomp_program_lets_a_worker_signal_only_itself():
    program = _instructions(hardening._seccomp_program("x86_64", 4321))
    constants = {k for _, _, _, k in program}
    assert 4321 in constants and (-4321) & 0xFFFFFFFF in constants


def test_protection_describes_its_layers():
    assert hardening.Protection(7, True, True).describe() == "landlock ABI 7, seccomp, audit hook"
    assert hardening.Protection(0, False, True).describe() == "no landlock, no seccomp, audit hook"


def _fresh_identity(monkeypatch, value=None, root=True, readable=True, paths=None):
    hardening._identity.cache_clear()
    monkeypatch.setattr(hardening.os, "geteuid", lambda: 0 if root else 1000)
    if value is None:
        monkeypatch.delenv(hardening.SANDBOX_USER_ENV, raising=False)
    else:
        monkeypatch.setenv(hardening.SANDBOX_USER_ENV, value)
    if paths is not None:
        monkeypatch.setattr(hardening, "_interpreter_paths", lambda: paths)
    return hardening.sandbox_identity()


@pytest.fixture
def private_and_public(world_dir):
    private = world_dir / "private"
    public = world_dir / "public"
    private.mkdir(mode=0o700)
    public.mkdir(mode=0o755)
    return str(private), str(public)


@pytest.mark.skipif(not hasattr(os, "geteuid"), reason="POSIX users")
def test_workers_become_nobody_as_root_only_when_nobody_can_read_python(monkeypatch, private_and_public):
    private, public = private_and_public
    try:
        assert _fresh_identity(monkeypatch, paths=[public]).name == "nobody"
        assert _fresh_identity(monkeypatch, paths=[public, private]) is None  # would break imports: stay
        assert _fresh_identity(monkeypatch, root=False, paths=[public]) is None  # only root can switch
        assert _fresh_identity(monkeypatch, "none", paths=[public]) is None
        with pytest.raises(UsageError, match="cannot read"):
            _fresh_identity(monkeypatch, "nobody", paths=[public, private])
        with pytest.raises(UsageError, match="not a user"):
            _fresh_identity(monkeypatch, "no-such-user-here", paths=[public])
    finally:
        hardening._identity.cache_clear()


def test_can_read_follows_owner_group_and_other_bits(world_dir):
    nobody = hardening.Identity("nobody", 65534, 65534)
    folder = world_dir / "a" / "b"
    folder.mkdir(parents=True)
    for path in (world_dir / "a", folder):
        path.chmod(0o755)
    assert hardening.can_read(str(folder), nobody)
    (world_dir / "a").chmod(0o754)  # others may list a but not enter it
    assert not hardening.can_read(str(folder), nobody)
    owner = hardening.Identity("owner", os.stat(world_dir).st_uid, 12345)
    (world_dir / "a").chmod(0o700)
    assert hardening.can_read(str(folder), owner) and not hardening.can_read(str(folder), nobody)


def _landlock_available() -> bool:
    return sys.platform.startswith("linux") and hardening._landlock_abi(hardening._libc()) >= 1


@pytest.mark.skipif(not _landlock_available(), reason="needs Landlock (Linux 5.13+)")
def test_a_worker_that_cannot_add_its_own_landlock_layer_after_the_shared_one_stops(tmp_path, monkeypatch):
    root = tmp_path / "workers"
    own = root / "student-1"
    own.mkdir(parents=True)
    hardening._plan_shared_layer((), str(root))  # here only built, never enforced
    monkeypatch.setattr(hardening, "_create_ruleset", lambda *args, **kwargs: -1)
    read_end, write_end = os.pipe()
    try:
        pid = os.fork()
        if pid == 0:  # the child enforces the layers; this process stays as it is
            try:
                outcome = f"went on with {hardening._landlock(hardening.Policy(scratch=str(own)))}"
            except OSError as exc:
                outcome = f"stopped: {exc.strerror}"
            os.write(write_end, outcome.encode())
            os._exit(0)
        os.close(write_end)
        outcome = os.read(read_end, 1000).decode()
        os.waitpid(pid, 0)
    finally:
        os.close(read_end)
        hardening.release_shared_layer()
    assert outcome == "stopped: Landlock refused the worker's own layer after the shared one"
