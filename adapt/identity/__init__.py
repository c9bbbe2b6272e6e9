"""Who is who: identity resolution over person rows.

Owns the public surface of the identity stage; the work lives in modules with
one job each:

========================  ===================================================
``normalise``             linkage features (:func:`prepare_rows`)
``nicknames``             forename alias table and its source
``extract_rows``          person rows from a parsed extract
``splink_adapter``        the only code that touches splink
``model``                 :class:`IdentityModel` (fit/save/load)
``context``               second stage: incident context over pair weights
``cluster``               decisions, guards, overrides, guarded clustering
``resolve``               :func:`resolve`, :func:`resolve_incremental`
``explain``               waterfall parts of a join
``review``                the analyst review queue
========================  ===================================================
"""

from adapt.identity.explain import explain
from adapt.identity.extract_rows import person_rows_from_extract
from adapt.identity.model import IdentityModel
from adapt.identity.normalise import prepare_rows
from adapt.identity.resolve import Resolution, resolve, resolve_incremental
from adapt.identity.review import review_queue

__all__ = [
    "IdentityModel",
    "Resolution",
    "explain",
    "person_rows_from_extract",
    "prepare_rows",
    "resolve",
    "resolve_incremental",
    "review_queue",
]
