"""The pieces of the worker lock-down that can be checked without a worker."""

import struct

import pytest

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
