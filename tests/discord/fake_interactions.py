"""Interaction responses as Discord keeps them (interactions/receiving-and-responding).

- The initial response (callback) is due within 3 s of the event; later, or a second
  one, is refused and a late one invalidates the token.
- The token then serves followups and edits for 15 minutes (after that: 401, 50027).
- A deferral (type 5) fixes the visibility: the first followup after it edits the
  loading message, whose ephemeral state cannot change, whatever the followup's flags.
  Later followups are new messages with their own flags.
- A component's interaction may instead update the message that carries the component
  (type 7, or type 6 then an edit of ``@original``); only component interactions may.

Every reply is recorded with the visibility the member really got.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tests.discord.fake_payloads import APP_ID, bot_user, iso, message
from tests.discord.fake_rules import FIRST_RESPONSE, TOKEN_LIFETIME

EPHEMERAL, LOADING = 1 << 6, 1 << 7
"""Message flags (resources/message: message flags)."""
MESSAGE, DEFERRED_MESSAGE, DEFERRED_UPDATE, UPDATE = 4, 5, 6, 7
"""Callback types (interaction response object: interaction callback type)."""

Answer = tuple[int, dict[str, Any]]
"""An HTTP status and its JSON body."""


def _error(status: int, code: int, text: str) -> Answer:
    return status, {"code": code, "message": text}


@dataclass
class Issued:
    """One interaction Discord sent the bot, and what the bot has answered so far."""

    id: str
    channel: dict[str, Any]
    at: datetime
    acked: int | None = None
    ephemeral: bool = False
    original: dict[str, Any] | None = None
    original_edited: bool = False
    late: bool = False
    carrier: dict[str, Any] | None = None
    """For a component interaction: the message the component is on."""


@dataclass
class Interactions:
    now: Callable[[], datetime]
    new_id: Callable[[], str]
    keep: Callable[[dict[str, Any]], None]
    """Store a public reply in its channel's history (ephemeral ones live nowhere)."""
    log: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    """Token -> what happened to it: ``callback`` and ``followup`` entries."""
    _issued: dict[str, Issued] = field(default_factory=dict)

    def issue(
        self,
        token: str,
        interaction_id: str,
        channel: dict[str, Any],
        carrier: dict[str, Any] | None = None,
    ) -> None:
        self._issued[token] = Issued(interaction_id, channel, self.now(), carrier=carrier)

    def updated(self, token: str) -> list[dict[str, Any]]:
        """The states the component's own message was updated to, in order."""
        return [e["message"] for e in self.log.get(token, []) if "update" in e]

    def shown(self, token: str) -> list[dict[str, Any]]:
        """The messages the member saw, in order (``flags`` tells their visibility)."""
        return [e["message"] for e in self.log.get(token, []) if "message" in e]

    def _message(self, issued: Issued, body: dict[str, Any], ephemeral: bool) -> dict[str, Any]:
        flags = (body.get("flags") or 0) & ~EPHEMERAL | (EPHEMERAL if ephemeral else 0)
        made = message(
            self.new_id(),
            issued.channel,
            {**body, "flags": flags, "timestamp": iso(self.now())},
            bot_user(),
        )
        made["webhook_id"] = APP_ID
        if not ephemeral:
            self.keep(made)
        return made

    def callback(self, interaction_id: str, token: str, body: dict[str, Any]) -> Answer:
        issued = self._issued.get(token)
        if issued is None or issued.id != interaction_id or issued.late:
            return _error(404, 10062, "Unknown interaction")
        if issued.acked is not None:
            return _error(400, 40060, "Interaction has already been acknowledged.")
        if self.now() - issued.at > FIRST_RESPONSE:
            issued.late = True  # "the token will be invalidated"
            return _error(404, 10062, "Unknown interaction")
        data = body.get("data") or {}
        if int(body["type"]) in (DEFERRED_UPDATE, UPDATE):
            return self._update_callback(issued, token, int(body["type"]), body, data)
        issued.acked = int(body["type"])
        issued.ephemeral = bool((data.get("flags") or 0) & EPHEMERAL)
        self.log.setdefault(token, []).append({"callback": body, "ephemeral": issued.ephemeral})
        resource: dict[str, Any] = {"type": issued.acked}
        if issued.acked in (MESSAGE, DEFERRED_MESSAGE):
            shown = {
                **data,
                "flags": (data.get("flags") or 0) | (LOADING if issued.acked == 5 else 0),
            }
            issued.original = self._message(issued, shown, issued.ephemeral)
            resource["message"] = issued.original
        return 200, {
            "interaction": {
                "id": interaction_id,
                "type": 2,
                "response_message_id": issued.original["id"] if issued.original else None,
                "response_message_loading": issued.acked == DEFERRED_MESSAGE,
                "response_message_ephemeral": issued.ephemeral,
            },
            "resource": resource,
        }

    def _update_callback(
        self, issued: Issued, token: str, kind: int, body: dict[str, Any], data: dict[str, Any]
    ) -> Answer:
        if issued.carrier is None:
            return _error(400, 50035, "Invalid Form Body: only components may update")
        issued.acked = kind
        issued.original = issued.carrier
        issued.original_edited = True  # followups are new messages, with their own flags
        self.log.setdefault(token, []).append({"callback": body, "ephemeral": False})
        if kind == UPDATE:
            self._update(issued, token, data)
        return 200, {"interaction": {"id": issued.id, "type": 3}, "resource": {"type": kind}}

    def _update(self, issued: Issued, token: str, body: dict[str, Any]) -> dict[str, Any]:
        assert issued.original is not None
        fields = ("content", "embeds", "components", "attachments")
        issued.original.update({k: body[k] for k in fields if k in body})
        shown = dict(issued.original)
        self.log.setdefault(token, []).append({"update": body, "message": shown})
        return shown

    def _usable(self, app_id: str, token: str) -> Issued | Answer:
        issued = self._issued.get(token)
        if app_id != APP_ID or issued is None or issued.late or issued.acked is None:
            return _error(404, 10015, "Unknown Webhook")
        if self.now() - issued.at > TOKEN_LIFETIME:
            return _error(401, 50027, "Invalid Webhook Token")
        return issued

    def followup(self, app_id: str, token: str, body: dict[str, Any]) -> Answer:
        issued = self._usable(app_id, token)
        if not isinstance(issued, Issued):
            return issued
        if issued.acked == DEFERRED_MESSAGE and not issued.original_edited:
            return self._edit_original(issued, token, body, "followup")
        ephemeral = bool((body.get("flags") or 0) & EPHEMERAL)
        made = self._message(issued, body, ephemeral)
        self.log.setdefault(token, []).append(
            {"followup": body, "message": made, "ephemeral": ephemeral}
        )
        return 200, made

    def edit_original(self, app_id: str, token: str, body: dict[str, Any]) -> Answer:
        issued = self._usable(app_id, token)
        if not isinstance(issued, Issued):
            return issued
        if issued.original is None:
            return _error(404, 10008, "Unknown Message")
        if issued.acked in (DEFERRED_UPDATE, UPDATE):
            return 200, self._update(issued, token, body)
        return self._edit_original(issued, token, body, "edit")

    def _edit_original(self, issued: Issued, token: str, body: dict[str, Any], how: str) -> Answer:
        assert issued.original is not None
        issued.original_edited = True
        fields = ("content", "embeds", "components", "attachments")
        issued.original.update({k: body[k] for k in fields if k in body})
        flags = issued.original["flags"] & ~LOADING  # the ephemeral bit stays as deferred
        issued.original["flags"] = flags
        shown = dict(issued.original)
        self.log.setdefault(token, []).append(
            {how: body, "message": shown, "ephemeral": bool(flags & EPHEMERAL)}
        )
        return 200, shown
