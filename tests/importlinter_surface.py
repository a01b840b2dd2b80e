"""An import-linter contract type: consumers reach a provider only through its surface (ADR 0018).

For the linkage apps (jukinet, cs, atena, intermediary, linkage, onestop, statistics): each may import
the register's outbox, bulk reads (`extract`: the snapshot hand-over, ADR 0020), selectors and read
models and nothing else of it, and the register imports
none of them. It is written for apps that do not exist yet, so a consumer that is not in the graph
is skipped (import-linter's `forbidden` contract refuses a missing source module); once an app
exists, the rule holds from its first commit. Direct imports are what it judges: a consumer that
reached the register through another app's module would pass, which the other contracts and review
are for. Registered in .importlinter under `contract_types`.
"""
from __future__ import annotations

from importlinter.application import output
from importlinter.domain import fields
from importlinter.domain.contract import Contract, ContractCheck


def _within(module: str, roots) -> bool:
    return any(module == r or module.startswith(r + ".") for r in roots)


class SurfaceOnlyContract(Contract):
    type_name = "surface_only"

    consumers = fields.ListField(subfield=fields.StringField())
    provider = fields.StringField()
    surface = fields.ListField(subfield=fields.StringField())

    def check(self, graph, verbose: bool) -> ContractCheck:
        consumers = list(self.consumers)  # type: ignore[attr-defined]
        provider = str(self.provider)  # type: ignore[attr-defined]
        surface = list(self.surface)  # type: ignore[attr-defined]
        present = [c for c in consumers if c in graph.modules]
        inward, outward = [], []
        for module in sorted(graph.modules):
            imported = sorted(graph.find_modules_directly_imported_by(module))
            if _within(module, present):
                # The provider's package itself is a namespace (`from juki.register import selectors`).
                inward += [(module, m) for m in imported
                           if _within(m, [provider]) and m != provider and not _within(m, surface)]
            elif _within(module, [provider]):
                outward += [(module, m) for m in imported if _within(m, consumers)]
        return ContractCheck(kept=not inward and not outward,
                             metadata={"inward": inward, "outward": outward, "present": present})

    def render_broken_contract(self, check: ContractCheck) -> None:
        for title, edges in (("Imports past the surface:", check.metadata["inward"]),
                             ("Imports from the provider into a consumer:", check.metadata["outward"])):
            if edges:
                output.print_error(title, bold=True)
                for importer, imported in edges:
                    output.indent_cursor()
                    output.print_error(f"{importer} -> {imported}", bold=False)
                output.new_line()
