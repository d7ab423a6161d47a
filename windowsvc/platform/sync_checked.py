"""Flask's check for ``async def`` hooks and views, made once per function instead of each time.

Flask asks ``inspect.iscoroutinefunction`` of every hook, view and error handler on every request
(``Flask.ensure_sync``): about fifteen times for ``/healthz``, some 4% of its work. Whether a
function is a coroutine function is fixed when the function is made, so the answer is kept, per
function, for as long as the function lives (weakly: a function made for one request, such as an
``after_this_request`` callback, takes its answer with it). A bound method is answered for its
function: a ``MethodView`` binds ``dispatch_request`` afresh at every request. Anything that
cannot be remembered (not hashable, no weak reference) is checked as Flask checks it.
"""

from inspect import iscoroutinefunction
from weakref import WeakKeyDictionary

from flask import Flask


class SyncChecked(Flask):
    """Flask that remembers which of its callables are plain (synchronous) functions."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._synchronous = WeakKeyDictionary()

    def ensure_sync(self, func):
        target = getattr(func, "__func__", func)  # a bound method is as async as its function
        try:
            synchronous = self._synchronous.get(target)
            if synchronous is None:
                synchronous = self._synchronous[target] = not iscoroutinefunction(func)
        except TypeError:  # not hashable, or no weak reference to it
            synchronous = not iscoroutinefunction(func)
        return func if synchronous else self.async_to_sync(func)
