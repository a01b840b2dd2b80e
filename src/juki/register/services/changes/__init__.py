"""The change operations (異動, standard [460]–[990]).

Each public function is one operation: keyword-only arguments, the acting `Actor` first,
one `change_scope` (gate + transaction + writer). Input shape is checked by the caller
(API serializer, form, CLI); every rule of the register is checked here.

A package by family (issue 13): `entries`, `moves`, `households`, `corrections`, `cancel`, with
what they share in `common`. Callers use `changes.<operation>` as before."""
from .common import (
    ADDRESS_FIELDS,
    CORRECTABLE_FIELDS,
    HOUSEHOLD_FIELDS,
    MINOR_CORRECTION_FIELDS,
    NEW,
    RETURNABLE_REMOVALS,
)
from .entries import (
    birth,
    ex_officio_entry,
    foreign_move_in,
    foreign_registration,
    move_in,
)
from .moves import (
    death,
    disappearance,
    ex_officio_removal,
    move_out,
    move_out_confirm,
    move_within_city,
)
from .households import (
    head_change,
    household_change,
    household_merge,
    household_split,
)
from .corrections import (
    MY_NUMBER_REASONS,
    erratum_correction,
    ex_officio_correction,
    minor_correction,
    my_number_record,
    nationality_acquisition,
    nationality_loss,
    naturalization,
    resident_code_assign,
)
from .cancel import (
    cancel,
)

__all__ = [
    "ADDRESS_FIELDS",
    "CORRECTABLE_FIELDS",
    "HOUSEHOLD_FIELDS",
    "MINOR_CORRECTION_FIELDS",
    "NEW",
    "RETURNABLE_REMOVALS",
    "birth",
    "ex_officio_entry",
    "foreign_move_in",
    "foreign_registration",
    "move_in",
    "death",
    "disappearance",
    "ex_officio_removal",
    "move_out",
    "move_out_confirm",
    "move_within_city",
    "head_change",
    "household_change",
    "household_merge",
    "household_split",
    "MY_NUMBER_REASONS",
    "erratum_correction",
    "ex_officio_correction",
    "minor_correction",
    "my_number_record",
    "nationality_acquisition",
    "nationality_loss",
    "naturalization",
    "resident_code_assign",
    "cancel",
]
