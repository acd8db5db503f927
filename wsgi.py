"""Entry point for gunicorn and `flask --app wsgi`: `gunicorn wsgi:app`."""

from webmail import create_app

app = create_app()
