"""The schema of deck files (CONTENT.md), as pydantic models with the chat limits."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from bot.core.models import LEVELS

KEBAB = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
SOURCE = r"^\d{3}#\d{1,3}$"

QUESTION_MAX = 400
KEY_POINT_MAX = 200
ANSWER_MAX = 1200
FOLLOW_UP_MAX = 300
TAGS_MAX = 20
TAG_MAX = 40
SOURCES_MAX = 20

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class CardFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: Annotated[str, StringConstraints(pattern=KEBAB, max_length=80)]
    topic: Annotated[str, StringConstraints(pattern=KEBAB)]
    level: str
    question: Annotated[Text, StringConstraints(max_length=QUESTION_MAX)]
    key_points: list[Annotated[Text, StringConstraints(max_length=KEY_POINT_MAX)]] = Field(
        min_length=3, max_length=6
    )
    answer: Annotated[Text, StringConstraints(max_length=ANSWER_MAX)]
    follow_up: Annotated[Text, StringConstraints(max_length=FOLLOW_UP_MAX)] | None = None
    tags: list[
        Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9.+#-]*$", max_length=TAG_MAX)]
    ] = Field(default=[], max_length=TAGS_MAX)
    source: list[Annotated[str, StringConstraints(pattern=SOURCE)]] = Field(
        default=[], max_length=SOURCES_MAX
    )

    @field_validator("level")
    @classmethod
    def _level(cls, value: str) -> str:
        if value not in LEVELS:
            raise ValueError(f"must be one of {', '.join(LEVELS)}")
        return value


class DeckFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: Annotated[str, StringConstraints(pattern=KEBAB, max_length=60)]
    title: Text
    description: Text
    levels: list[str] = list(LEVELS)
    topics: dict[str, Text] = Field(min_length=1)

    @field_validator("topics")
    @classmethod
    def _topics(cls, value: dict[str, str]) -> dict[str, str]:
        bad = [t for t in value if not re.match(KEBAB, t)]
        if bad:
            raise ValueError(f"topic ids must be kebab-case: {', '.join(bad)}")
        return value

    @field_validator("levels")
    @classmethod
    def _levels(cls, value: list[str]) -> list[str]:
        bad = [v for v in value if v not in LEVELS]
        if bad:
            raise ValueError(f"unknown levels {', '.join(bad)}; use {', '.join(LEVELS)}")
        return value


class SourcesFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    items: dict[Annotated[str, StringConstraints(pattern=SOURCE)], Text]
