"""Signs of tampering with the grading machinery, read from a submission's own cells (never run).

Learner code runs in the same kernel as the test cells, so it could replace the checkers, hook
IPython (input or AST transformers, custom exception handlers, event callbacks), patch `sys.modules`
or builtins, or reach into the frames of the tests that call it. The judge already decides scores
outside the kernel, so such tricks cannot earn points by themselves; a submission that tries them is
still flagged for the instructor, and its test cells score 0 until the instructor clears it.

The scan reads the cells a learner can change (answer cells and cells they added), after IPython's
own translation of magics into Python, and reports each finding with the cell and the reason.
"""

from __future__ import annotations

import ast

# Attribute and name uses that no exercise needs and that reach the machinery, with the reason.
SUSPECT_NAMES = {
    "get_ipython": "uses IPython's shell object",
    "__builtins__": "changes or reads Python's builtins",
    "builtins": "changes or reads Python's builtins",
    "__import__": "imports by name at run time",
    "importlib": "imports by name at run time",
    "exec": "runs code built at run time",
    "eval": "runs code built at run time",
    "compile": "compiles code at run time",
    "globals": "reads or changes the notebook's globals",
    "vars": "reads or changes a namespace",
    "ctypes": "uses ctypes (raw memory)",
    "gc": "walks live objects (gc)",
    "inspect": "inspects frames or source at run time",
    "signal": "handles signals",
    "atexit": "registers exit hooks",
    "traceback": "rewrites tracebacks",
    "In": "reads the kernel's input history (the test cells' source)",
    "_ih": "reads the kernel's input history (the test cells' source)",
}
SUSPECT_ATTRIBUTES = {
    "modules": "patches sys.modules",
    "settrace": "installs a trace hook", "setprofile": "installs a profile hook",
    "_getframe": "reads the caller's frames", "f_back": "reads the caller's frames", "f_globals": "reads a frame's globals",
    "f_locals": "reads a frame's locals", "tb_frame": "reads a traceback's frames",
    "excepthook": "replaces the exception hook", "displayhook": "replaces the display hook",
    "set_custom_exc": "installs a custom exception handler", "showtraceback": "replaces traceback display",
    "input_transformers_cleanup": "adds an input transformer", "input_transformers_post": "adds an input transformer",
    "ast_transformers": "adds an AST transformer", "register_magics": "registers magics",
    "register_magic_function": "registers magics", "events": "registers IPython event callbacks",
    "run_cell": "runs cells itself", "user_ns": "rewrites the kernel's namespace",
    "__code__": "rewrites a function's code", "__globals__": "reads a function's globals",
    "__subclasses__": "walks the class hierarchy", "__class__": "changes an object's class",
    "_exit": "ends the kernel abruptly", "kill": "sends signals to processes",
}
ALLOWED_MAGICS = {"time", "timeit", "matplotlib", "pprint", "who", "whos"}
PROTECTED = {"grading", "momlab"}  # names the test cells rely on


def findings(source: str) -> list[str]:
    """Reasons to flag one cell's source (empty when nothing looks like tampering)."""
    reasons = _magics(source)
    try:
        tree = ast.parse(_as_python(_without_allowed_magics(source)))
    except (SyntaxError, ValueError):
        return reasons  # a learner's broken cell is not tampering
    imported = _imported_names(tree)
    for node in ast.walk(tree):
        reason = _suspect(node, imported)
        if reason and reason not in reasons:
            reasons.append(reason)
    return reasons


def notebook_findings(nb, release) -> list[str]:
    """One line per suspicious learner cell: 'cell 12 (grade_id): reason; reason'. Cells as the lab's
    `release` notebook has them (the instructor's demo code) and locked cells are not the learner's."""
    given = {cell.source.strip() for cell in release.cells if cell.cell_type == "code"}
    lines = []
    for number, cell in enumerate(nb.cells, 1):
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell.cell_type != "code" or meta.get("locked") or cell.source.strip() in given:
            continue
        reasons = findings(cell.source)
        if reasons:
            lines.append(f"cell {number} ({meta.get('grade_id', 'added by the learner')}): {'; '.join(reasons)}")
    return lines


def _as_python(source: str) -> str:
    from IPython.core.inputtransformer2 import TransformerManager

    return TransformerManager().transform_cell(source)


def _without_allowed_magics(source: str) -> str:
    """The source with the harmless magics' own lines blanked (IPython would turn them into get_ipython calls)."""
    lines = source.splitlines()
    for number, line in enumerate(lines):
        name = line.strip().lstrip("%").split(maxsplit=1)[0] if line.strip().startswith("%") and line.strip().lstrip("%") else ""
        if name in ALLOWED_MAGICS:
            rest = line.strip().lstrip("%")[len(name):].strip()
            lines[number] = rest if not line.strip().startswith("%%") else ""
    return "\n".join(lines)


def _magics(source: str) -> list[str]:
    reasons = []
    for line in source.splitlines():
        stripped = line.strip()
        if stripped.startswith("%"):
            name = stripped.lstrip("%").split(maxsplit=1)[0] if stripped.lstrip("%") else ""
            if name not in ALLOWED_MAGICS:
                reasons.append(f"uses the magic %{name}")
    return reasons


def _imported_names(tree) -> set[str]:
    names = set(PROTECTED)
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
    return names


def _suspect(node, imported: set[str]) -> str | None:
    if isinstance(node, ast.Name) and node.id in SUSPECT_NAMES:
        return SUSPECT_NAMES[node.id]
    if isinstance(node, ast.Attribute) and node.attr in SUSPECT_ATTRIBUTES:
        return SUSPECT_ATTRIBUTES[node.attr]
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        for alias in node.names:
            root = (getattr(node, "module", None) or alias.name).split(".")[0]
            if root in SUSPECT_NAMES:
                return SUSPECT_NAMES[root]
            if (alias.asname or alias.name) in PROTECTED and root != "momlab":
                return f"rebinds {alias.asname or alias.name}, which the tests use"
    if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Delete)):
        targets = node.targets if isinstance(node, (ast.Assign, ast.Delete)) else [node.target]
        for target in targets:
            base = _base_name(target)
            if isinstance(target, (ast.Attribute, ast.Subscript)) and base in imported:
                return f"changes the module {base}"
            if isinstance(target, ast.Name) and target.id in PROTECTED:
                return f"rebinds {target.id}, which the tests use"
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.name in PROTECTED:
        return f"rebinds {node.name}, which the tests use"
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("setattr", "delattr"):
        return "sets attributes by name"
    return None


def _base_name(node) -> str | None:
    while isinstance(node, (ast.Attribute, ast.Subscript)):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None
