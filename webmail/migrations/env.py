"""Alembic environment: run with the app's engine (see `webmail.migrate`)."""

from alembic import context

from webmail.models import Base

config = context.config
connectable = config.attributes["connection"]
context.configure(connection=connectable, target_metadata=Base.metadata,
                  render_as_batch=True, compare_type=True)
with context.begin_transaction():
    context.run_migrations()
