"""Pages: desk (to be filled in)."""

from .guard import pages

bp = pages("web_desk", __name__, url_prefix="/desk")
