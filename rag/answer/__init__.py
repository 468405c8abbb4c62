"""Answer: answerable? → extract or generate → verify. Turns retrieved passages into a cited answer.

Open ``engine.py`` first (``AnswerEngine``: modes, abstention, streaming); ``context.py`` holds what
retrieval produced for a question; ``abstain.py`` decides when the passages do not answer,
``extractive.py`` picks source sentences, ``generate.py`` (with ``prompt.py`` and ``llm.py``) has an LLM
write the answer, ``rewrite.py`` the plain one, ``verify.py`` checks every sentence against what it
cites (with ``facts.py`` and ``claims.py``).
"""
