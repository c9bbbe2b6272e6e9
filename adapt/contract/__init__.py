"""Read and validate an extract folder against the data contract (no database)."""

from adapt.contract.model import Extract, ParsedFile, StructuralError
from adapt.contract.reader import read_extract

__all__ = ["Extract", "ParsedFile", "StructuralError", "read_extract"]
