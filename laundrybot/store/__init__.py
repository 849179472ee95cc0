"""Durable records: the local SQLite spool (``spool``) and the PostgreSQL side (``postgres``)."""
