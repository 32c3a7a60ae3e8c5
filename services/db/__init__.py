"""Persistence: SQLAlchemy tables, the database handle, repositories and row ↔ Struct mapping."""
