"""The dashboard at ``/ui``: pages and their session (:mod:`.pages`), the data they read (:mod:`.data`).

Served by the admin app like any admin route (one rule each in :mod:`..roles`); its HTML, CSS and
JavaScript are files in ``static/`` shipped inside the wheel (no build step, no CDN), its charts
drawn by the vendored uPlot.
"""
