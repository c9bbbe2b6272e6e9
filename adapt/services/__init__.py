"""The application service layer: what the app's pages call, and all they
call besides :mod:`adapt.core` (``tests/test_codebase.py`` enforces it).

* :mod:`~adapt.services.session`: the engine (one per database URL), the
  signed-in user, the permission guard, the audit.
* :mod:`~adapt.services.data`: caches shared by sessions, keyed by the data
  version (history, features, rankings, labels, network, indexes, quarantine).
* :mod:`~adapt.services.jobs`: long work (an import, an identity run, a
  backtest) on a background thread, with progress the pages poll.
* :mod:`~adapt.services.settings`: the settings in force, saved versions, help text.
* one module per page: :mod:`~adapt.services.cohort`, :mod:`~adapt.services.person`,
  :mod:`~adapt.services.marac`, :mod:`~adapt.services.tuning`,
  :mod:`~adapt.services.imports` (the Data page), :mod:`~adapt.services.audit`,
  :mod:`~adapt.services.review` (the identity review queue; link explanations),
  :mod:`~adapt.services.lineage` (merges, splits and case items in words):
  a thin surface over :mod:`adapt.views`, :mod:`adapt.pipeline` and :mod:`adapt.db`.

Pages draw; the package computes.
"""
