"""How answers are shaped from domain objects: computed fields, who is looking, the ETag.

Services return rows and facts; the schemas of ``api/`` dump them. A value that is not a plain
attribute (a label, a rule's answer, a masked applicant) comes from a ``computed`` field, which
keeps its declared type (the OpenAPI document) and serialisation. What depends on the caller
(the actions their role may take, whether personal data is shown) is read from ``VIEWER``, which
``seen_by_caller`` sets around the view and therefore around flask-smorest's dump.
"""

from functools import wraps
from typing import TypedDict

from marshmallow import missing
from marshmallow.experimental.context import Context

from .auth import current_actor


class Viewer(TypedDict):
    role: str
    personal_data: bool  # the applicant unmasked: only detail views, whose reads are recorded


VIEWER = Context[Viewer]


def seen_by_caller(*, personal_data: bool = False):
    """Dump the view's answer for the calling principal (its role; masked unless told)."""

    def decorate(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            with VIEWER({"role": current_actor().role, "personal_data": personal_data}):
                return view(*args, **kwargs)

        return wrapper

    return decorate


def viewer() -> Viewer:
    """Who the answer being dumped is for; LookupError outside ``seen_by_caller``, never a guess."""
    return VIEWER.get()


class _Computed:
    """A field whose value is ``getter(obj)`` instead of an attribute of the object."""

    def __init__(self, getter, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.getter = getter

    def get_value(self, obj, attr, accessor=None, default=missing):
        return self.getter(obj)


_COMPUTED_CLASSES: dict[type, type] = {}


def computed(field_class: type, getter, *args, **kwargs):
    """A ``field_class`` field (its type, format and documentation) valued ``getter(obj)``."""
    cls = _COMPUTED_CLASSES.get(field_class)
    if cls is None:
        cls = type(f"Computed{field_class.__name__}", (_Computed, field_class), {})
        _COMPUTED_CLASSES[field_class] = cls
    return cls(getter, *args, **kwargs)


def etag_of(application) -> dict:
    """The headers naming the case's version, the strong ETag actions are matched against."""
    return {"ETag": f'"{application.version}"'}
