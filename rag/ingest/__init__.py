"""Ingest: load → parse → chunk → embed → store. Turns the corpus folder into a searchable index.

Open ``build.py`` first (``build_index``: the whole pipeline and when it is a no-op); then ``corpus.py``
(files and their metadata; ``formats/`` reads PDF, HTML and officiële-bekendmakingen XML), ``parse.py``
(page furniture, footnotes, hyphenation, headings, Q&A pairs, pages) and ``chunk.py`` (Vraag/Antwoord
groups and paragraph chunks with exact character spans).
"""
