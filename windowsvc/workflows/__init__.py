"""State machines as data (``transitions``): importable without Flask or a database."""

from .engine import ActionNotAllowed, GuardViolation, WorkflowDefinition

__all__ = ["ActionNotAllowed", "GuardViolation", "WorkflowDefinition"]
