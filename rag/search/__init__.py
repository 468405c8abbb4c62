"""Search: query → retrieve → fuse → cite. Finds the passages for a question in a store.

Open ``retrieve.py`` first (``Retriever``: dense cosine, best-paragraph max-sim and the BM25 bonus from
``lexical.py``, fused, filtered and collapsed; ``duplicates.py`` finds repeated answers); ``citations.py``
makes each passage's citation; ``stores/`` holds the index backends behind one interface (``base.py``):
``faiss_store.py`` (FAISS files beside the process, the default) and ``pg_store.py`` (PostgreSQL + pgvector).
"""
