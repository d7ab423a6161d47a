"""Pages: citizen (to be filled in)."""

from .guard import pages

bp = pages("web_citizen", __name__, url_prefix="/query")
