"""Pages: oversight (to be filled in)."""

from .guard import pages

bp = pages("web_oversight", __name__, url_prefix="/oversight")
