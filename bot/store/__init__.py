"""Storage: SQLAlchemy Core tables, queries and Alembic migrations."""
