"""The only package that talks to a database: schema, migrations, bulk load,
queries. Everything else asks it."""

from adapt.db.engine import DatabaseUnavailable, connect, default_url, writer
from adapt.db.identity_models import StoredModel, latest_model
from adapt.db.load import FileCounts, InputRefused, LoadResult, load_extract
from adapt.db.queries import import_history, quarantine_frame, table_counts

__all__ = [
    "DatabaseUnavailable",
    "FileCounts",
    "InputRefused",
    "LoadResult",
    "StoredModel",
    "connect",
    "default_url",
    "import_history",
    "latest_model",
    "load_extract",
    "quarantine_frame",
    "table_counts",
    "writer",
]
