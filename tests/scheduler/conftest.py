"""Catch-up, restarts and two processes on one database: on SQLite and on PostgreSQL."""

from tests.pg import db_url_on_both as db_url

__all__ = ["db_url"]
