"""Vraagbaak: questions about Dutch integration-policy documents, answered with exact citations.

``service.py`` is the facade the CLI, the API and the eval call; the pipeline lives in ``ingest/``
(corpus → index), ``search/`` (question → passages) and ``answer/`` (passages → cited answer).
"""
