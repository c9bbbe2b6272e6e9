"""ADAPT: serial domestic-abuse perpetrator identification and offender management."""

__version__ = "0.1.0"
