"""Block Kit limits, as the fake enforces them.

PLATFORMS.md, Slack, "Block Kit limits": what Slack refuses with ``invalid_blocks``
(docs.slack.dev/reference/block-kit/blocks and .../composition-objects/text-object):

- at most 50 blocks in a message;
- ``header``: a ``plain_text`` object of 1 to 150 characters;
- ``section``: ``text`` or ``fields`` (or both); ``text`` 1 to 3,000 characters, at most
  10 ``fields`` of 1 to 2,000 characters each;
- ``context``: at most 10 elements; ``actions``: at most 25 elements, a button's text at
  most 75 characters.

``chat.postMessage``, ``chat.update``, ``chat.postEphemeral`` and ``response_url`` posts all
check their blocks here.
"""

from __future__ import annotations

from typing import Any

from tests.slack.fake_conversations import SlackError

BLOCKS_MAX = 50
HEADER_MAX = 150
SECTION_TEXT_MAX = 3000
FIELDS_MAX = 10
FIELD_MAX = 2000
CONTEXT_ELEMENTS_MAX = 10
ACTIONS_ELEMENTS_MAX = 25
BUTTON_TEXT_MAX = 75
INVALID = "invalid_blocks"


def check(blocks: Any) -> None:
    """Raise ``SlackError("invalid_blocks")`` for blocks Slack would refuse."""
    if blocks is None:
        return
    if not isinstance(blocks, list) or len(blocks) > BLOCKS_MAX:
        raise SlackError(INVALID)
    for block in blocks:
        if not isinstance(block, dict):
            raise SlackError(INVALID)
        kind = block.get("type")
        if kind == "header":
            _text(block.get("text"), HEADER_MAX, plain_only=True)
        elif kind == "section":
            _section(block)
        elif kind == "context":
            _count(block.get("elements"), CONTEXT_ELEMENTS_MAX)
        elif kind == "actions":
            for element in _count(block.get("elements"), ACTIONS_ELEMENTS_MAX):
                if isinstance(element, dict) and element.get("type") == "button":
                    _text(element.get("text"), BUTTON_TEXT_MAX, plain_only=True)


def _section(block: dict[str, Any]) -> None:
    if "text" not in block and "fields" not in block:
        raise SlackError(INVALID)
    if "text" in block:
        _text(block["text"], SECTION_TEXT_MAX)
    if "fields" in block:
        for field in _count(block["fields"], FIELDS_MAX):
            _text(field, FIELD_MAX)


def _count(items: Any, most: int) -> list[Any]:
    if not isinstance(items, list) or not 1 <= len(items) <= most:
        raise SlackError(INVALID)
    return items


def _text(obj: Any, most: int, *, plain_only: bool = False) -> None:
    if not isinstance(obj, dict) or obj.get("type") not in ("plain_text", "mrkdwn"):
        raise SlackError(INVALID)
    if plain_only and obj["type"] != "plain_text":
        raise SlackError(INVALID)
    text = obj.get("text")
    if not isinstance(text, str) or not 1 <= len(text) <= most:
        raise SlackError(INVALID)
