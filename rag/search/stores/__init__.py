"""Stores: where chunks, their vectors and metadata live, and how a version of them is published.

``faiss_store.py`` is the embedded default (FAISS files in ``index_dir`` with an atomic ``current`` link).
Another backend (a database) plugs in beside it with the same read interface.
"""
