"""What a file's code defines, and whether it is still the template's, read with ast (never run)."""

from __future__ import annotations

import ast
import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

from grader.submission import MAX_NOTEBOOK_BYTES, MAX_SOURCE_BYTES, Unreadable, notebook_cells, read_limited

TEMPLATE_HASHES = "templates.sha256"  # written by a release: "DIGEST  NAME" per template
_TOP_LEVEL_DEF = re.compile(r"^(?:async[ \t]+)?def[ \t]+(\w+)|^class[ \t]+(\w+)", re.MULTILINE)


@dataclass(frozen=True)
class Definition:
    """A function as the finder sees it."""

    body: str | None  # the body's syntax tree, dumped (no positions); None when it could not be parsed
    stub: bool  # only pass, ..., a docstring or raise NotImplementedError


def code_chunks(data: bytes, suffix: str) -> list[str]:
    """The code in a .py file's bytes (one chunk) or a notebook's (one per code cell)."""
    text = data.decode("utf-8-sig", errors="replace")
    if suffix != ".ipynb":
        return [text]
    cells = notebook_cells(text)
    if cells is None:
        try:
            import nbformat

            cells = nbformat.reads(text, as_version=4).get("cells", [])
        except Exception:  # not a notebook nbformat can read: read() will say so when it is graded
            return []
    chunks = []
    for cell in cells:
        if cell.get("cell_type") == "code":
            source = cell.get("source", "")
            chunks.append("".join(source) if isinstance(source, list) else str(source))
    return chunks


def _parse(chunk: str) -> ast.Module | None:
    try:
        return ast.parse(chunk)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def _dump(nodes: list[ast.stmt]) -> str | None:
    try:
        return ast.dump(ast.Module(body=nodes, type_ignores=[]))
    except (RecursionError, ValueError):
        return None


def _normalised(chunk: str) -> str:
    """A chunk of code as compared with the template: its syntax tree, or (when it does not parse)
    its lines without trailing spaces and blank lines. Comments and layout do not count."""
    tree = _parse(chunk)
    dumped = _dump(tree.body) if tree is not None else None
    if dumped is not None:
        return dumped
    return "\n".join(line.rstrip() for line in chunk.splitlines() if line.strip())


def code_digest(chunks: list[str]) -> str:
    """A digest of code that ignores comments, layout, empty cells and everything a notebook keeps
    besides code (outputs, metadata): a template opened and saved in Jupyter keeps its digest."""
    digest = hashlib.sha256()
    for chunk in chunks:
        normalised = _normalised(chunk)
        if normalised and normalised != "Module(body=[], type_ignores=[])":
            digest.update(normalised.encode("utf-8", "surrogatepass") + b"\0")
    return digest.hexdigest()


def file_code_digest(path: Path) -> str:
    """code_digest of the .py or .ipynb file at path (what a release records for its templates)."""
    limit = MAX_NOTEBOOK_BYTES if path.suffix.lower() == ".ipynb" else MAX_SOURCE_BYTES
    return code_digest(code_chunks(read_limited(path, limit), path.suffix.lower()))


def _docless(body: list[ast.stmt]) -> list[ast.stmt]:
    first = body[0] if body else None
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
        return body[1:]
    return body


def _is_stub(body: list[ast.stmt]) -> bool:
    for statement in body:
        if isinstance(statement, ast.Pass):
            continue
        if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant) \
                and statement.value.value is Ellipsis:
            continue
        if isinstance(statement, ast.Raise):
            raised = statement.exc.func if isinstance(statement.exc, ast.Call) else statement.exc
            if isinstance(raised, ast.Name) and raised.id == "NotImplementedError":
                continue
        return False
    return True


def _function(node: ast.AST) -> Definition:
    body = _docless(node.body)
    return Definition(_dump(body), _is_stub(body))


def definitions(chunks: list[str]) -> dict[str, Definition]:
    """Every top-level name the chunks define (functions, classes' methods as Class.method,
    assignments, imports), the later definition winning as when the cells run in order."""
    found: dict[str, Definition] = {}
    unknown = Definition(None, False)
    for chunk in chunks:
        tree = _parse(chunk)
        if tree is None:  # a syntax error does not make it someone else's file: find its defs by their lines
            for match in _TOP_LEVEL_DEF.finditer(chunk):
                found[match.group(1) or match.group(2)] = unknown
            continue
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                found[node.name] = _function(node)
            elif isinstance(node, ast.ClassDef):
                found[node.name] = unknown
                for item in node.body:
                    if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                        found[f"{node.name}.{item.name}"] = _function(item)
            elif isinstance(node, (ast.Assign, ast.AnnAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                found.update((t.id, unknown) for t in targets if isinstance(t, ast.Name))
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                found.update(((a.asname or a.name).split(".")[0], unknown) for a in node.names)
    return found


# -- the template ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Template:
    """What the assignment's templates look like, as far as it can be known here."""

    digests: frozenset[str] = frozenset()  # code digests (and, from older releases, file hashes)
    bodies: dict[str, str | None] = field(default_factory=dict)  # each function's body, from a pristine .py

    def implemented(self, defined: dict[str, Definition]) -> frozenset[str]:
        """The defined functions whose bodies are neither a stub nor the template's own."""
        return frozenset(name for name, d in defined.items()
                         if not d.stub and (d.body is None or d.body != self.bodies.get(name)))


def template(name: str, folder: Path | None, pristine: bool, kinds: frozenset[str] = frozenset({".ipynb"})) -> Template:
    """The templates of assignment name in folder. pristine: the folder's own files are the
    templates as released; in a student's copy they are the student's work, and only the digests
    recorded at release time tell what the templates were. kinds: the suffixes of the candidates;
    the notebook template is read only where a notebook is to be compared with it (reading one
    costs nbformat's import, a third of a second before grading can start)."""
    if folder is None:
        return Template()
    digests: set[str] = set()
    try:
        recorded = read_limited(folder / TEMPLATE_HASHES, 1 << 16).decode("utf-8", errors="replace")
        digests.update(line.split()[0] for line in recorded.splitlines() if line.split())
    except Unreadable:
        pass
    if not pristine:
        return Template(frozenset(digests))
    bodies: dict[str, str | None] = {}
    for suffix in (".py", ".ipynb"):
        if suffix != ".py" and suffix not in kinds:  # the .py template is read for its function bodies
            continue
        path = folder / f"{name}{suffix}"
        try:
            chunks = code_chunks(read_limited(path, MAX_NOTEBOOK_BYTES), suffix)
        except Unreadable:
            continue
        digests.add(code_digest(chunks))
        if suffix == ".py":
            bodies = {function: d.body for function, d in definitions(chunks).items()}
    return Template(frozenset(digests), bodies)
