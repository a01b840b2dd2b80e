"""An import-linter contract type: no import cycles between modules (ADR 0018).

import-linter's own `acyclic_siblings` looks at packages, so it also calls two apps that import
each other in different modules a cycle; the rule here is the one the code keeps: no module
reaches itself again through its imports (imports inside functions count, as in every contract).
Registered in .importlinter under `contract_types`.
"""
from __future__ import annotations

from importlinter.application import output
from importlinter.domain import fields
from importlinter.domain.contract import Contract, ContractCheck


def strongly_connected(graph, modules: list[str]) -> list[list[str]]:
    """Tarjan's algorithm, iterative (the graph is deep enough for Python's recursion limit)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for root in modules:
        if root in index:
            continue
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root))))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.find_modules_directly_imported_by(child)))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1 or node in graph.find_modules_directly_imported_by(node):
                    found.append(sorted(component))
    return sorted(found)


class AcyclicModulesContract(Contract):
    type_name = "acyclic_modules"

    containers = fields.ListField(subfield=fields.StringField())

    def check(self, graph, verbose: bool) -> ContractCheck:
        modules = sorted(m for m in graph.modules
                         if any(m == c or m.startswith(c + ".") for c in self.containers))  # type: ignore[attr-defined]
        cycles = []
        for component in strongly_connected(graph, modules):
            members = set(component)
            edges = [(a, b) for a in component for b in sorted(graph.find_modules_directly_imported_by(a)) if b in members]
            cycles.append({"modules": component, "imports": edges})
        return ContractCheck(kept=not cycles, metadata={"cycles": cycles})

    def render_broken_contract(self, check: ContractCheck) -> None:
        for cycle in check.metadata["cycles"]:
            output.print_error(f"Import cycle between {len(cycle['modules'])} modules:", bold=True)
            for importer, imported in cycle["imports"]:
                output.indent_cursor()
                output.print_error(f"{importer} -> {imported}", bold=False)
            output.new_line()
