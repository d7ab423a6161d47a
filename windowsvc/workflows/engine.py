"""A thin layer over ``transitions``: one shared machine per definition, fired on loaded rows."""

from dataclasses import dataclass, field

from transitions import Machine


class ActionNotAllowed(Exception):
    """The action is not possible in the object's current state (HTTP 409)."""

    def __init__(self, action: str, state: str, allowed: list[str]):
        super().__init__(f"'{action}' is not allowed in state '{state}'")
        self.action = action
        self.state = state
        self.allowed = allowed


class GuardViolation(Exception):
    """A precondition of the transition is not met, e.g. a refusal without a reason (HTTP 422)."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


def text_argument(ed, name):
    """A guard's keyword argument, stripped when it is text."""
    value = ed.kwargs.get(name)
    return value.strip() if isinstance(value, str) else value


def require_text(ed, name, message):
    """A guard's keyword argument must be given and not blank."""
    if not text_argument(ed, name):
        raise GuardViolation(message, name)


@dataclass
class WorkflowDefinition:
    """States and transitions as data, and the one shared ``transitions.Machine`` built from them.

    ``states``: dicts with ``name``, ``label`` and optional ``final``.
    ``transitions``: dicts with ``trigger``, ``source`` (name or list), ``dest`` ('=' stays),
    optional ``conditions``/``unless`` (callables taking EventData), and ``actor`` (who may fire it:
    a role name, or ``system`` for the engine itself).
    """

    name: str
    initial: str
    states: list[dict]
    transitions: list[dict]
    machine: Machine = field(init=False, repr=False)

    def __post_init__(self):
        spec = [
            {
                k: v
                for k, v in t.items()
                if k in ("trigger", "source", "dest", "conditions", "unless")
            }
            for t in self.transitions
        ]
        self.machine = Machine(
            model=None,
            states=[s["name"] for s in self.states],
            transitions=spec,
            initial=self.initial,
            auto_transitions=False,
            send_event=True,
        )

    @property
    def labels(self) -> dict[str, str]:
        """State name → Chinese label."""
        return {s["name"]: s["label"] for s in self.states}

    @property
    def final_states(self) -> set[str]:
        """States with no way out."""
        return {s["name"] for s in self.states if s.get("final")}

    def triggers_from(self, state: str) -> list[str]:
        """Every trigger defined from ``state``, in definition order, without duplicates."""
        seen = []
        for t in self.transitions:
            sources = t["source"] if isinstance(t["source"], list) else [t["source"]]
            if state in sources and t["trigger"] not in seen:
                seen.append(t["trigger"])
        return seen

    def actors_of(self, trigger: str) -> set[str]:
        """The roles (or 'system') that may fire ``trigger``."""
        actors = set()
        for t in self.transitions:
            if t["trigger"] == trigger:
                actor = t.get("actor", "system")
                actors.update(actor if isinstance(actor, list | tuple) else [actor])
        return actors

    def allowed(self, state: str, role: str | None = None, model=None) -> list[str]:
        """The triggers a ``role`` may fire from ``state`` (all roles when None).

        A transition with ``offered_when`` (a predicate on the model, which is None when the
        caller has no model) is offered only when the predicate holds: e.g. handing in deferred
        materials is offered only while some are outstanding.
        """
        offered = []
        for t in self.transitions:
            sources = t["source"] if isinstance(t["source"], list) else [t["source"]]
            if state not in sources or t["trigger"] in offered:
                continue
            if role is not None and role not in self.actors_of(t["trigger"]):
                continue
            when = t.get("offered_when")
            if when is not None and not when(model):
                continue
            offered.append(t["trigger"])
        return offered

    def destination(self, trigger: str, source: str) -> str:
        """Where ``trigger`` leads from ``source`` (its first branch): for the paths that write a
        state in bulk SQL instead of firing the machine on a loaded row."""
        for t in self.transitions:
            sources = t["source"] if isinstance(t["source"], list) else [t["source"]]
            if t["trigger"] == trigger and source in sources:
                return source if t["dest"] == "=" else t["dest"]
        raise ActionNotAllowed(trigger, source, self.allowed(source))

    def fire(self, trigger: str, model, **kwargs) -> str:
        """Fire ``trigger`` on ``model`` (anything with a ``state``); return the new state.

        Raises ActionNotAllowed when the state has no such transition (or every branch declined),
        and lets GuardViolation from a condition propagate unchanged.
        """
        state = model.state
        if trigger not in self.triggers_from(state):
            raise ActionNotAllowed(trigger, state, self.allowed(state, model=model))
        if not self.machine.events[trigger].trigger(model, **kwargs):
            raise ActionNotAllowed(trigger, state, self.allowed(state, model=model))
        return model.state

    def describe(self) -> dict:
        """The definition as JSON-ready data (states, transitions with guard names and actors)."""
        return {
            "name": self.name,
            "initial": self.initial,
            "states": self.states,
            "transitions": [
                {
                    "trigger": t["trigger"],
                    "source": t["source"] if isinstance(t["source"], list) else [t["source"]],
                    "dest": t["dest"],
                    "actor": t.get("actor", "system"),
                    "guards": [c.__name__ for c in _as_list(t.get("conditions"))]
                    + [f"not {c.__name__}" for c in _as_list(t.get("unless"))],
                }
                for t in self.transitions
            ],
        }

    def mermaid(self) -> str:
        """A Mermaid ``stateDiagram-v2`` of the definition."""
        lines = ["stateDiagram-v2", f"    [*] --> {self.initial}"]
        for s in self.states:
            lines.append(f"    {s['name']} : {s['name']} {s['label']}")
        for t in self.describe()["transitions"]:
            for source in t["source"]:
                dest = source if t["dest"] == "=" else t["dest"]
                guard = f" [{', '.join(t['guards'])}]" if t["guards"] else ""
                lines.append(f"    {source} --> {dest} : {t['trigger']}{guard}")
        for final in sorted(self.final_states):
            lines.append(f"    {final} --> [*]")
        return "\n".join(lines) + "\n"


def _as_list(value):
    if value is None:
        return []
    return value if isinstance(value, list | tuple) else [value]
