"""`python -m adapt` runs the command line."""

from adapt.cli import app

app()
