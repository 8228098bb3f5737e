"""Streamlit helpers for ``app.py`` and ``app_pages/``: cached resources, rendering, uploads, eval reports.

Only the app imports this package; ``rag/`` never imports Streamlit or ``ui``.
"""
