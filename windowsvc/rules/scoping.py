"""部门数据隔离 — department scoping: which cases, tasks and work orders a principal reaches.

One rule for every read and every action. The window, oversight and admin reach everything. A
department (its back-office system, its supervisor) reaches only objects its department handles:
a case with a step of that department (not merely one its item's catalog entry names — a case in
correction or still submitted online has no step yet), a task of that department, a work order
of that department. The one exception is written in the contract: a supervisor may *read* any
case. Whatever a principal does not reach is answered 404, exactly like an object that does not
exist, so that existence never leaks.
"""

from collections.abc import Collection

UNCONFINED_ROLES = frozenset({"window", "oversight", "admin"})
DEPARTMENT_ROLES = frozenset({"backoffice", "supervisor"})
NOWHERE = ""  # the "department" of a principal that reaches no department's objects


def confined_to(role: str, department: str | None, *, reading_a_case: bool = False) -> str | None:
    """The one department whose objects the principal is limited to; None when not limited.

    A role that belongs to no department (a citizen, the engine, an unknown role) or a
    department role without a department is confined to ``NOWHERE``: it reaches nothing.
    """
    if role in UNCONFINED_ROLES or (role == "supervisor" and reading_a_case):
        return None
    if role in DEPARTMENT_ROLES and department:
        return department
    return NOWHERE


def may_reach(
    role: str,
    department: str | None,
    handled_by: Collection[str],
    *,
    reading_a_case: bool = False,
) -> bool:
    """Whether the principal may see or act on an object handled by the departments given.

    ``handled_by``: the departments with a step of the case, or the task's or the work order's
    own department. ``reading_a_case``: a read of a case (detail, record, notices), which every
    supervisor may make; acting on it may not.
    """
    confined = confined_to(role, department, reading_a_case=reading_a_case)
    return confined is None or (confined != NOWHERE and confined in handled_by)
