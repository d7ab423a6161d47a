"""Pages: record (to be filled in)."""

from .guard import pages

bp = pages("web_record", __name__, url_prefix="/cases")
