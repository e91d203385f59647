"""The house rules of DESIGN §2, checked on the source: what each layer may import, and no import cycles.

Every import counts, also one written inside a function: a late import hides a cycle from Python, not from a
reader."""
from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("store", "sync", "tui")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@cache
def project_modules() -> dict[str, Path]:
    return {module_name(p): p for pkg in PACKAGES for p in sorted((ROOT / pkg).rglob("*.py"))}


@cache
def imports_of(name: str) -> frozenset[str]:
    """Every module the module names in an import statement (absolute names; `from a import b` counts a.b when
    a.b is a module of ours, else a)."""
    path = project_modules()[name]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = name if path.name == "__init__.py" else name.rpartition(".")[0]
                for _ in range(node.level - 1):
                    package = package.rpartition(".")[0]
                base = f"{package}.{base}".strip(".")
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                found.add(candidate if candidate in project_modules() else base)
    return frozenset(found)


def offenders(prefix: str, forbidden: tuple[str, ...]) -> dict[str, list[str]]:
    bad = {}
    for name in project_modules():
        if name == prefix or name.startswith(prefix + "."):
            hits = sorted(i for i in imports_of(name) if any(i == f or i.startswith(f + ".") for f in forbidden))
            if hits:
                bad[name] = hits
    return bad


def test_rules_are_pure_no_sql_no_files_no_ledger():
    assert offenders("store.rules", ("store.ledger", "store.read", "store.write", "store.files", "sqlite3",
                                     "sqlcipher3", "pathlib", "os", "smtplib", "csv", "openpyxl")) == {}


def test_rules_read_no_wall_clock():
    clock_calls = {"today", "now", "utcnow", "time", "time_ns", "monotonic"}
    bad = []
    for name, path in project_modules().items():
        if name.startswith("store.rules"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                        and node.func.attr in clock_calls:
                    bad.append(f"{name}:{node.lineno} {ast.unparse(node.func)}()")
    assert bad == []


def test_store_never_reaches_up_to_sync_tui_or_the_network():
    assert offenders("store", ("sync", "tui", "httpx", "textual", "starlette", "uvicorn", "rich")) == {}


def test_sync_never_imports_the_app():
    assert offenders("sync", ("tui", "textual")) == {}


def test_the_device_side_of_sync_never_imports_the_server():
    # a laptop install has no server packages (duly[server]); the client must import without them
    bad = offenders("sync", ("sync.server", "starlette", "uvicorn", "psycopg"))
    assert {k: v for k, v in bad.items() if not k.startswith("sync.server")} == {}


def cycles() -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), sorted."""
    graph = {n: sorted(i for i in imports_of(n) if i in project_modules() and i != n) for n in project_modules()}
    index, low, stack, on, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in graph:
        if v not in index:
            visit(v)
    return sorted(out)


def test_no_import_cycles_anywhere():
    assert cycles() == []


def _test_module_imports() -> list[str]:
    """Every import, in any file under tests/, of a test module (test_*.py) or of a conftest: a helper two test
    modules share belongs in tests/support/, a fixture in a conftest.py (pytest finds those; nobody imports them)."""
    tests = ROOT / "tests"
    bad = []
    for path in sorted(tests.rglob("*.py")):
        package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parent = package
                    for _ in range(node.level - 1):
                        parent = parent.rpartition(".")[0]
                    base = f"{parent}.{base}".strip(".")
                names = [base, *(f"{base}.{alias.name}" for alias in node.names)]
            for name in names:
                last = name.rpartition(".")[2]
                if (last.startswith("test_") or last == "conftest") and \
                        (ROOT / Path(*name.split("."))).with_suffix(".py").exists():
                    bad.append(f"{path.relative_to(ROOT)}:{node.lineno} imports {name}")
    return bad


def test_no_test_module_imports_another_test_module():
    assert _test_module_imports() == []
