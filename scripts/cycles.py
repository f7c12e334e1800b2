"""Exit 1 and name them when dsar's modules import each other in a cycle, counting the
imports made for annotations only (TYPE_CHECKING) too. The layers contract of
pyproject.toml leaves modules of one layer free to import each other: this closes that gap.
"""

import sys

import grimp

graph = grimp.build_graph("dsar", cache_dir=None)
modules = sorted(graph.modules)
index: dict[str, int] = {}
low: dict[str, int] = {}
stack: list[str] = []
cycles: list[list[str]] = []
sys.setrecursionlimit(10_000)


def visit(module: str) -> None:
    """Tarjan's strongly connected components: each one of several modules is a cycle."""
    index[module] = low[module] = len(index)
    stack.append(module)
    for imported in graph.find_modules_directly_imported_by(module):
        if imported not in index:
            visit(imported)
            low[module] = min(low[module], low[imported])
        elif imported in stack:
            low[module] = min(low[module], index[imported])
    if low[module] == index[module]:
        component = []
        while component[-1:] != [module]:
            component.append(stack.pop())
        if len(component) > 1:
            cycles.append(sorted(component))


for module in modules:
    if module not in index:
        visit(module)
for cycle in cycles:
    print(f"import cycle of {len(cycle)} modules: {' '.join(cycle)}", file=sys.stderr)
print(f"{len(modules)} modules, {len(cycles)} import cycle(s)")
sys.exit(1 if cycles else 0)
