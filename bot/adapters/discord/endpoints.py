"""Where discord.py connects: its REST base URL, and the gateway that REST names.

discord.py keeps both in class attributes (``Route.BASE`` for every REST call, webhooks
and interaction callbacks included, and ``DiscordWebSocket.DEFAULT_GATEWAY``); there is
no per-client setting. With an ``api_url`` (``STUDYBOT_DISCORD_API_URL``: a REST proxy
such as nirn-proxy, or a test's fake Discord) the adapter points ``Route.BASE`` there
for as long as it runs, and connects to the gateway URL that ``GET /gateway/bot``
there returns. Without one, both stay discord.py's defaults.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterator

import discord
import yarl
from discord.gateway import DiscordWebSocket
from discord.http import Route


@contextlib.contextmanager
def rest_base(api_url: str | None) -> Iterator[None]:
    if api_url is None:
        yield
        return
    previous = Route.BASE
    Route.BASE = api_url.rstrip("/")
    try:
        yield
    finally:
        Route.BASE = previous


@contextlib.asynccontextmanager
async def gateway_of(client: discord.Client, *, follow: bool) -> AsyncIterator[None]:
    """While connected, use the gateway named by ``/gateway/bot`` (when ``follow``)."""
    if not follow:
        yield
        return
    previous = DiscordWebSocket.DEFAULT_GATEWAY
    _, url, _ = await client.http.get_bot_gateway()
    DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(url)
    try:
        yield
    finally:
        DiscordWebSocket.DEFAULT_GATEWAY = previous
