"""The store port for one member's personal data (``tx.personal``): export and erasure.

``bot.store.export.PersonalData`` implements it by reading the schema: every row with a
member reference, and the places where a member is named in text.
"""

from __future__ import annotations

from typing import Any, Protocol


class PersonalDataReader(Protocol):
    def token(self, member_id: int) -> str | None:
        """Names this member and no earlier one with the same id (forget-me buttons)."""
        ...

    def export(self, member_id: int) -> dict[str, Any] | None:
        """Every row that references the member, as JSON-ready values, by table."""
        ...


class PersonalDataRepo(PersonalDataReader, Protocol):
    def erase(self, member_id: int) -> bool:
        """Delete those rows and scrub the member's name where it is kept as text."""
        ...
