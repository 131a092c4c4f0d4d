"""Removing a folder whatever student code left in it (grader.sandbox.tree)."""

import os

from grader.sandbox.tree import remove_tree


def test_a_deep_chain_of_folders_is_removed_without_recursion(tmp_path):
    root = tmp_path / "scratch"
    root.mkdir()
    fd = os.open(root, os.O_RDONLY)
    try:
        for _ in range(3000):  # deeper than PATH_MAX allows as one path, and than Python's recursion
            os.mkdir("d", dir_fd=fd)
            below = os.open("d", os.O_RDONLY, dir_fd=fd)
            os.close(fd)
            fd = below
        with open(os.open("leaf.txt", os.O_WRONLY | os.O_CREAT, 0o600, dir_fd=fd), "w") as leaf:
            leaf.write("x")
    finally:
        os.close(fd)
    remove_tree(str(root))
    assert not root.exists()


def test_links_are_removed_not_followed(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.txt").write_text("staff")
    root = tmp_path / "scratch"
    (root / "inner").mkdir(parents=True)
    (root / "to_outside").symlink_to(outside)
    (root / "inner" / "to_file").symlink_to(outside / "keep.txt")
    remove_tree(str(root))
    assert not root.exists() and (outside / "keep.txt").read_text() == "staff"


def test_a_missing_path_or_a_file_is_fine(tmp_path):
    remove_tree(str(tmp_path / "missing"))
    (tmp_path / "file").write_text("x")
    remove_tree(str(tmp_path / "file"))
    assert not (tmp_path / "file").exists()
