"""Core types every stage shares, below every stage: the contract's
vocabulary (``spec``), :class:`~adapt.core.history.History`, as-of dates,
:class:`~adapt.core.settings.Settings`, harm tables, person rows and row keys,
roles and permissions (``access``), and where packaged files live
(``resources``). Nothing here imports another adapt package."""
