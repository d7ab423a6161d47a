"""Pages: counter (to be filled in)."""

from .guard import pages

bp = pages("web_counter", __name__, url_prefix="/counter")
