"""Pages: a case's full record (全过程记录) for oversight and for the handling department's
supervisor — every event with its hash, the chain check, the path on the state diagram, the
steps, the notices and the rating.
"""

from flask import g, render_template
from markupsafe import Markup

from ..platform.policy import allow
from ..services.cases import applications
from ..workflows.lifecycle import LIFECYCLE
from .diagram import lifecycle_svg
from .guard import pages
from .record_view import case_record, notices

bp = pages("web_record", __name__, url_prefix="/cases")

SUPERVISOR, OVERSIGHT = "supervisor", "oversight"
PURPOSE = "record"


@bp.get("/<number>/record")
@allow(SUPERVISOR, OVERSIGHT)
def record(number):
    """全过程记录 — the case's lifecycle record; reading it is itself recorded (行为监控)."""
    actor = g.actor
    application = read_case(number, actor)
    view = case_record(application)
    diagram = lifecycle_svg(
        LIFECYCLE,
        view.path,
        application.state,
        f"办件 {application.number} 的状态流转",
    )
    return render_template(
        "web/record/record.html",
        view=view,
        notices=notices(application.number, actor),
        diagram=Markup(diagram),  # built by web.diagram, every text in it escaped there
    )


def read_case(number: str, actor):
    """The case, its read recorded; the 404 page, or 400 for a wrong check character.

    A supervisor reads here only the cases their department handles (a step of it): this page
    is the department's look at its own work, scoped like acting on the case, not the
    contract's read-any-case of the API.
    """
    return applications.read_for_staff(
        number, actor, purpose=PURPOSE, to_act=actor.role == SUPERVISOR
    )
