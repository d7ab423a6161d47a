"""Gunicorn entry point: ``gunicorn wsgi:app``."""

from windowsvc import create_app

app = create_app()
