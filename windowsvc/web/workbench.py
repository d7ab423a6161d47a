"""Pages: workbench (to be filled in)."""

from .guard import pages

bp = pages("web_workbench", __name__, url_prefix="/workbench")
