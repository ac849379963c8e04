"""The package's import graph: no module imports, at the top or inside a function, a module that imports it back,
and no module borrows another module's private names.

A circle makes the import order decide whether a name exists yet (and hides which layer owns what); a private
name used from another module is an interface nobody declared. Both are read from the source with ``ast``, so
imports inside functions (lazy imports) count as well as those at the top.
"""

import ast
from pathlib import Path

import pytest

SOURCE = Path(__file__).resolve().parent.parent / "src"
PACKAGE = "audioad"


def module_files(root=SOURCE / PACKAGE):
    """Module name -> path, for every ``.py`` file under ``root`` (a package by the name of its ``__init__``)."""
    modules = {}
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root.parent).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        modules[".".join(parts)] = path
    return modules


def is_private(name):
    """Whether ``name`` is private by Python's convention (``_name``, but not a dunder such as ``__version__``)."""
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def is_own(value):
    """Whether an attribute's owner is the object itself (``self``, ``cls``, ``super()``): a subclass may use its base's
    private members."""
    if isinstance(value, ast.Call):
        return isinstance(value.func, ast.Name) and value.func.id == "super"
    return isinstance(value, ast.Name) and value.id in ("self", "cls")


def defined_names(node):
    """The names a node defines: a function, a class, an assigned name or attribute, a name given as a string
    (``setattr(x, "_name", ...)``, a state key)."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return [node.name]
    if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
        return [node.id]
    if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
        return [node.attr]
    if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.isidentifier():
        return [node.value]
    return []


def ancestors(module):
    """``a.b.c`` -> ``["a", "a.b"]``."""
    parts = module.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


class ModuleImports:
    """What one module imports, read from its source: the modules and the private names it takes from others."""

    def __init__(self, name, path, modules):
        self.name = name
        self.modules = modules
        self.is_package = path.name == "__init__.py"
        self.tree = ast.parse(path.read_text(), filename=str(path))
        self.imported = {}  # module -> first line that imports it
        self.borrowed = []  # (line, "from X import _name" or "X._name")
        self.module_aliases = {}  # local name -> module it is bound to
        self.private_defined = set()  # private names this module defines: functions, classes, variables, attributes
        self.private_used = []  # (line, "expression._name") on something other than self, cls or super()
        for node in ast.walk(self.tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    self.imports(alias.name, node.lineno)
                    if alias.asname:
                        self.module_aliases[alias.asname] = alias.name
            elif isinstance(node, ast.ImportFrom):
                self.import_from(node)
        for node in ast.walk(self.tree):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and self.module_aliases.get(node.value.id, self.name) != self.name
                and is_private(node.attr)
            ):
                self.borrowed.append((node.lineno, f"{self.module_aliases[node.value.id]}.{node.attr}"))
            elif isinstance(node, ast.Attribute) and is_private(node.attr) and not is_own(node.value):
                self.private_used.append((node.lineno, node.attr, ast.unparse(node)))
            self.private_defined |= {name for name in defined_names(node) if is_private(name)}

    def resolve(self, node):
        """The absolute module name of an ``ImportFrom``'s ``from`` part."""
        if not node.level:
            return node.module
        base = self.name.split(".")
        # A package's own __init__ is the package: `from . import x` there is `from <package> import x`.
        drop = node.level - 1 if self.is_package else node.level
        base = base[: len(base) - drop]
        return ".".join(base + ([node.module] if node.module else []))

    def imports(self, module, line):
        """Record that this module imports ``module`` (one of ours), and so every package above it not above us."""
        if module not in self.modules:
            return
        for target in [*ancestors(module), module]:
            if target != self.name and target not in ancestors(self.name):
                self.imported.setdefault(target, line)

    def import_from(self, node):
        source = self.resolve(node)
        if source is None or not (source == PACKAGE or source.startswith(PACKAGE + ".")):
            return
        self.imports(source, node.lineno)
        for alias in node.names:
            submodule = f"{source}.{alias.name}"
            if submodule in self.modules:
                self.imports(submodule, node.lineno)
                self.module_aliases[alias.asname or alias.name] = submodule
            if is_private(alias.name) and (submodule if submodule in self.modules else source) != self.name:
                self.borrowed.append((node.lineno, f"from {source} import {alias.name}"))


def package_imports():
    modules = module_files()
    return {name: ModuleImports(name, path, modules) for name, path in modules.items()}


def import_circles(graph):
    """Every strongly connected set of modules larger than one (Tarjan), each as one circle through it."""
    index, low, stack, on_stack, circles = {}, {}, [], set(), []

    def visit(start):
        # Iterative, so that a deep graph cannot reach the recursion limit.
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    members = set()
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        members.add(member)
                        if member == node:
                            break
                    if len(members) > 1:
                        circles.append(circle_through(graph, members))
            elif child not in index:
                index[child] = low[child] = len(index)
                stack.append(child)
                on_stack.add(child)
                work.append((child, iter(sorted(graph[child]))))
            elif child in on_stack:
                low[node] = min(low[node], index[child])

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return circles


def circle_through(graph, members):
    """One shortest circle inside a strongly connected set: ``[a, b, ..., a]``."""
    start = min(members)
    paths, frontier = {start: [start]}, [start]
    while frontier:
        following = []
        for node in frontier:
            for child in sorted(graph[node] & members):
                if child == start:
                    return paths[node] + [start]
                if child not in paths:
                    paths[child] = paths[node] + [child]
                    following.append(child)
        frontier = following
    raise AssertionError(f"{sorted(members)} is not strongly connected")


def describe(circle, imports):
    return (
        " -> ".join(
            f"{module} (line {imports[module].imported[following]})" for module, following in zip(circle, circle[1:])
        )
        + f" -> {circle[-1]}"
    )


IMPORTS = package_imports()


def test_the_source_tree_is_found():
    assert {"audioad", "audioad.audio", "audioad.detectors.base"} <= set(IMPORTS)


def test_no_module_imports_a_module_that_imports_it_back():
    graph = {name: set(module.imported) for name, module in IMPORTS.items()}
    circles = import_circles(graph)
    assert not circles, "import circles:\n" + "\n".join(describe(circle, IMPORTS) for circle in circles)


def borrowed_names(imports):
    """``module line N: what`` for each private name a module imports from another, or uses as an attribute of an
    object (not itself) where only other modules of the package define that name."""
    borrowed = [(module.name, line, what) for module in imports.values() for line, what in module.borrowed]
    for module in imports.values():
        for line, name, expression in module.private_used:
            owners = [other.name for other in imports.values() if other is not module and name in other.private_defined]
            if owners and name not in module.private_defined:
                borrowed.append((module.name, line, f"{expression}, defined in {', '.join(owners)}"))
    return [f"{name} line {line}: {what}" for name, line, what in sorted(borrowed)]


def test_no_module_borrows_another_modules_private_names():
    borrowed = borrowed_names(IMPORTS)
    assert not borrowed, "private names used across modules:\n" + "\n".join(borrowed)


def analyse(tmp_path, sources):
    """The imports of a made-up package ``audioad`` with ``sources`` (relative path -> source)."""
    for relative, source in sources.items():
        path = tmp_path / PACKAGE / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(source)
    modules = module_files(tmp_path / PACKAGE)
    return {name: ModuleImports(name, path, modules) for name, path in modules.items()}


def test_a_lazy_relative_circle_through_a_package_is_found(tmp_path):
    imports = analyse(
        tmp_path,
        {
            "__init__.py": "",
            "a.py": "def f():\n    from .pkg.b import g\n",
            "pkg/__init__.py": "from .c import h\n",
            "pkg/b.py": "",
            "pkg/c.py": "import audioad.a\n",
        },
    )
    graph = {name: set(module.imported) for name, module in imports.items()}
    circles = import_circles(graph)
    assert circles == [["audioad.a", "audioad.pkg", "audioad.pkg.c", "audioad.a"]]
    assert "audioad.a (line 2) -> audioad.pkg (line 1)" in describe(circles[0], imports)


def test_a_package_importing_its_own_modules_is_no_circle(tmp_path):
    imports = analyse(
        tmp_path,
        {"__init__.py": "from .a import f\n", "a.py": "from .b import g\n", "b.py": "def g():\n    pass\n"},
    )
    assert import_circles({name: set(module.imported) for name, module in imports.items()}) == []


@pytest.mark.parametrize(
    "source",
    [
        "from .b import _helper\n",
        "from . import _b\n",
        "from audioad import _b\n",
        "def f():\n    from .b import _helper\n",
        "from . import b\nb._helper()\n",
        "import audioad.b as b\nb._helper()\n",
    ],
)
def test_a_borrowed_private_name_is_found(tmp_path, source):
    imports = analyse(tmp_path, {"__init__.py": "", "a.py": source, "b.py": "", "_b.py": ""})
    assert borrowed_names(imports)


def test_a_private_method_of_another_modules_class_is_borrowed(tmp_path):
    base = "class Base:\n    def _helper(self):\n        pass\n    def run(self):\n        return self._helper()\n"
    subclass = "from .base import Base\nclass Child(Base):\n    def run(self):\n        return self._helper()\n"
    caller = "def run(detector):\n    return detector._helper()\n"
    imports = analyse(tmp_path, {"__init__.py": "", "base.py": base, "child.py": subclass, "caller.py": caller})
    assert borrowed_names(imports) == ["audioad.caller line 2: detector._helper, defined in audioad.base"]


@pytest.mark.parametrize(
    "source",
    [
        "from .b import helper\n",
        "from audioad import __version__\n",
        "_x = 1\n_x\n",
        "def f(row):\n    return row._replace(a=1)\n",
    ],
)
def test_public_names_and_own_names_are_not_borrowed(tmp_path, source):
    imports = analyse(tmp_path, {"__init__.py": "", "a.py": source, "b.py": ""})
    assert borrowed_names(imports) == []
