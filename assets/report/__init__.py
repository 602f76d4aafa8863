"""The per-model HTML report (``datasre report``, the ``model_report`` asset).

:mod:`~assets.report.load` reads the store, profiles and snapshots and writes files;
:mod:`~assets.report.model`, :mod:`~assets.report.distributions`,
:mod:`~assets.report.charts` and :mod:`~assets.report.html` are pure. docs/report.md
describes the page and why its charts are hand-drawn SVG.
"""
