"""Answer: answerable? → extract or generate → verify. Turns retrieved passages into a cited answer.

Open ``engine.py`` first (``AnswerEngine``: modes, abstention, streaming); ``abstain.py`` decides when the
passages do not answer, ``extractive.py`` picks source sentences, ``prompt.py`` and ``llm.py`` ask an LLM,
``verify.py`` checks every sentence against what it cites (with ``facts.py`` and ``claims.py``).
"""
