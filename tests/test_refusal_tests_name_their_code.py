"""Every refusal test names the refusal it expects.

A bare ``with pytest.raises(DomainError):`` passes for any DomainError — a missing-field
refusal passes a test meant for a permission refusal — so the test can go on passing after
the rule it guards has broken. This guard reads every test module (with ``ast``) and fails,
listing file:line, for each ``with pytest.raises(DomainError ...)`` that does not bind the
error (``as err``) or whose binding's ``err.value.code`` (or ``err.value.status``) is not
read by the statements that follow the ``with`` in the same function.
"""
from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parent
CHECKED_ATTRIBUTES = {"code", "status"}


def _is_raises_domain_error(node: ast.expr) -> bool:
    """``pytest.raises(DomainError ...)`` (also ``raises(...)`` imported from pytest)."""
    if not isinstance(node, ast.Call) or not node.args:
        return False
    func = node.func
    named_raises = (isinstance(func, ast.Attribute) and func.attr == "raises"
                    and isinstance(func.value, ast.Name) and func.value.id == "pytest") or (
        isinstance(func, ast.Name) and func.id == "raises")
    if not named_raises:
        return False
    first = node.args[0]
    candidates = first.elts if isinstance(first, ast.Tuple) else [first]
    return any(isinstance(c, ast.Name) and c.id == "DomainError" for c in candidates)


def _reads_code(statements: list[ast.stmt], name: str) -> bool:
    """Whether ``name.value.code`` or ``name.value.status`` is read in the statements before
    ``name`` is bound again (by the next ``with … as name``, an assignment or a ``for``)."""
    reads, binds = [], []
    for statement in statements:
        for node in ast.walk(statement):
            if (isinstance(node, ast.Attribute) and node.attr in CHECKED_ATTRIBUTES
                    and isinstance(node.value, ast.Attribute) and node.value.attr == "value"
                    and isinstance(node.value.value, ast.Name) and node.value.value.id == name):
                reads.append((node.lineno, node.col_offset))
            elif isinstance(node, ast.Name) and node.id == name and isinstance(node.ctx, ast.Store):
                binds.append((node.lineno, node.col_offset))
    return bool(reads) and (not binds or min(reads) < min(binds))


def _following(path: list[ast.AST], with_node: ast.With) -> list[ast.stmt]:
    """The statements after ``with_node`` up to the end of the enclosing function.

    ``path`` runs from the module down to the ``with``'s parent; going up from the ``with`` to the
    innermost function, at each level the statements after the branch that holds it count (the
    rest of a loop's body, then of the function …).
    """
    following: list[ast.stmt] = []
    child: ast.AST = with_node
    for parent in reversed(path):
        for field in ("body", "orelse", "finalbody", "handlers"):
            block = getattr(parent, field, None)
            if isinstance(block, list) and child in block:
                following.extend(block[block.index(child) + 1:])
                break
        if isinstance(parent, (ast.FunctionDef, ast.AsyncFunctionDef)):
            break
        child = parent
    return following


def _offences(tree: ast.Module) -> list[int]:
    offences: list[int] = []

    def visit(node: ast.AST, path: list[ast.AST]) -> None:
        if isinstance(node, (ast.With, ast.AsyncWith)):
            for item in node.items:
                if not _is_raises_domain_error(item.context_expr):
                    continue
                target = item.optional_vars
                if not isinstance(target, ast.Name) or not _reads_code(_following(path, node), target.id):
                    offences.append(item.context_expr.lineno)
        for child in ast.iter_child_nodes(node):
            visit(child, [*path, node])

    visit(tree, [])
    return offences


def test_every_pytest_raises_domain_error_asserts_its_code():
    offences = []
    for file in sorted(TESTS.rglob("*.py")):
        tree = ast.parse(file.read_text(encoding="utf-8"), filename=str(file))
        offences += [f"{file.relative_to(TESTS.parent)}:{line}" for line in _offences(tree)]
    assert not offences, (
        "pytest.raises(DomainError) without `as err` and an `assert err.value.code == ErrorCode.…` "
        "after it:\n" + "\n".join(offences))


def test_the_guard_catches_a_bare_refusal_and_passes_a_named_one():
    source = '''
def test_bare():
    with pytest.raises(DomainError):
        f()

def test_unchecked():
    with pytest.raises(DomainError) as err:
        f()
    assert err.value.field == "x"

def test_other_name():
    with pytest.raises(DomainError) as err:
        f()
    assert other.value.code == ErrorCode.NOT_FOUND

def test_named():
    with pytest.raises(DomainError) as err:
        f()
    assert err.value.code == ErrorCode.NOT_FOUND

def test_in_a_loop():
    for x in xs:
        with pytest.raises(DomainError, match="x") as err:
            f(x)
        assert err.value.status == 403

def test_only_the_next_one_checked():
    with pytest.raises(DomainError) as err:
        f()
    with pytest.raises(DomainError) as err:
        g()
    assert err.value.code == ErrorCode.NOT_FOUND

def test_a_tuple_and_a_helper():
    def helper():
        with raises((DomainError, ValueError)) as err:
            f()
        return err
    assert helper().value.code == ErrorCode.NOT_FOUND
'''
    assert _offences(ast.parse(source)) == [3, 7, 12, 28, 36]
