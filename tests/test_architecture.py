"""The house stays easy to walk: no import circles among the project's modules, no module or function
that has grown past what a reader takes in at once.

Imports are read with `ast`, at module level and inside functions alike: a function-level import that
hides a circle is still a circle (it only moves the ImportError from start-up to the first call).
"""

import ast
import functools
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("accounts", "campaigns", "config", "contacts", "core", "dialplan", "deploy", "imports", "inbox", "sandbox", "telephony")

# Circles allowed to remain, written "importer -> imported" (none: add nothing).
KNOWN_CYCLE_EDGES_TODAY: set[str] = set()

MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60
LONG_MODULE_MARKER = "Long because:"

# Offenders allowed to remain (none: a long module says why in its docstring; add nothing).
LONG_MODULES_TODAY: set[str] = set()
LONG_FUNCTIONS_TODAY: set[str] = set()


@functools.cache
def parsed(path: Path) -> tuple[ast.Module, int]:
    """The module's syntax tree and its number of lines (each file is read once per test run)."""
    source = path.read_text()
    return ast.parse(source, str(path)), len(source.splitlines())


@functools.cache
def project_modules() -> dict[str, Path]:
    modules = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            relative = path.relative_to(ROOT).with_suffix("")
            if "migrations" in relative.parts:
                continue
            parts = relative.parts[:-1] if relative.name == "__init__" else relative.parts
            modules[".".join(parts)] = path
    return modules


def _runtime_nodes(tree: ast.AST):
    """Every node, except those under `if TYPE_CHECKING:` (imports for annotations only, never run)."""
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            yield from (n for child in node.orelse for n in [child, *_runtime_nodes(child)])
            continue
        yield node
        yield from _runtime_nodes(node)


def imported_names(module: str, path: Path) -> set[str]:
    """Every dotted name this module imports, wherever the import statement stands (at module level or
    inside a function: a function-level import that closes a circle only hides it until the call)."""
    is_package = path.name == "__init__.py"
    names = set()
    for node in _runtime_nodes(parsed(path)[0]):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")
                base = base[: len(base) - node.level + (1 if is_package else 0)]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module
            names.add(source)
            names.update(f"{source}.{alias.name}" for alias in node.names)
    return names


def import_graph() -> dict[str, set[str]]:
    modules = project_modules()
    graph = {}
    for module, path in modules.items():
        targets = set()
        for name in imported_names(module, path):
            # `from inbox import models` names the module inbox.models; `from inbox.models import Message`
            # names inbox.models.Message, a class: walk up to the longest prefix that is a module.
            while name and name not in modules:
                name = name.rpartition(".")[0]
            if name and name != module and not module.startswith(name + "."):
                targets.add(name)
        graph[module] = targets
    return graph


def strongly_connected(graph: dict[str, set[str]]) -> list[set[str]]:
    """Tarjan's algorithm: the groups of modules that can reach each other (circles of 2 or more)."""
    index, low, stack, on_stack, groups = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.add(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(group)

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return groups


def without_known_edges(graph):
    pruned = {module: set(targets) for module, targets in graph.items()}
    for edge in KNOWN_CYCLE_EDGES_TODAY:
        importer, imported = edge.split(" -> ")
        pruned.get(importer, set()).discard(imported)
    return pruned


def describe(group, graph):
    return "\n".join(f"  {a} -> {b}" for a in sorted(group) for b in sorted(graph[a] & group))


def test_the_project_modules_import_each_other_without_circles():
    graph = import_graph()
    circles = strongly_connected(without_known_edges(graph))
    assert not circles, "import circles:\n" + "\n\n".join(describe(group, graph) for group in circles)


def test_every_known_circle_edge_still_exists():
    """An allowlisted edge that is gone must leave the list, so the list only ever shrinks."""
    graph = import_graph()
    stale = {edge for edge in KNOWN_CYCLE_EDGES_TODAY if edge.split(" -> ")[1] not in graph.get(edge.split(" -> ")[0], ())}
    assert not stale, f"remove from KNOWN_CYCLE_EDGES_TODAY: {sorted(stale)}"


def test_the_graph_sees_function_level_imports():
    graph = import_graph()
    assert "core.tasks" in graph and "config.celery" in graph["core.tasks"]  # imported inside named()


def long_modules():
    found = set()
    for module, path in project_modules().items():
        tree, lines = parsed(path)
        if lines > MAX_MODULE_LINES:
            docstring = ast.get_docstring(tree) or ""
            if LONG_MODULE_MARKER not in docstring:
                found.add(module)
    return found


def long_functions():
    found = set()
    for module, path in project_modules().items():
        for node in ast.walk(parsed(path)[0]):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                first = min([node.lineno] + [decorator.lineno for decorator in node.decorator_list])
                if node.end_lineno - first + 1 > MAX_FUNCTION_LINES:
                    found.add(f"{module}.{node.name}")
    return found


def test_no_module_is_long_without_saying_why_at_its_top():
    offenders = long_modules() - LONG_MODULES_TODAY
    assert not offenders, f"over {MAX_MODULE_LINES} lines without '{LONG_MODULE_MARKER}' in the docstring: {sorted(offenders)}"


def test_no_function_is_over_sixty_lines():
    offenders = long_functions() - LONG_FUNCTIONS_TODAY
    assert not offenders, f"functions over {MAX_FUNCTION_LINES} lines: {sorted(offenders)}"


def test_the_size_allowlists_only_name_todays_offenders():
    stale = (LONG_MODULES_TODAY - long_modules()) | (LONG_FUNCTIONS_TODAY - long_functions())
    assert not stale, f"no longer long, remove from the allowlist: {sorted(stale)}"
