"""python-telegram-bot's HTTP requests over aiohttp instead of httpx.

Measured with benchmarks/telegram.py and a plain send loop against the local Bot API: the
same requests cost about a quarter of the CPU through aiohttp, because httpx's connection
pool re-scans every connection for every request and checks each idle socket on reuse. A
busy bot is CPU-bound on exactly that, so the swap is what lets it handle many chats at once.
"""

from __future__ import annotations

import asyncio
import urllib.parse
import urllib.request
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from telegram._utils.defaultvalue import DEFAULT_NONE, DefaultValue
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData


class AiohttpRequest(BaseRequest):
    """A `BaseRequest` on one aiohttp session with a bounded connection pool."""

    __slots__ = ("_connect_timeout", "_pool_size", "_proxies", "_read_timeout", "_session")

    def __init__(
        self,
        connection_pool_size: int = 32,
        read_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
    ) -> None:
        self._pool_size = connection_pool_size
        self._read_timeout = read_timeout
        self._connect_timeout = connect_timeout
        self._session: aiohttp.ClientSession | None = None
        self._proxies: dict[tuple[str, str], str | None] = {}

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(limit=self._pool_size)
            self._session = aiohttp.ClientSession(connector=connector)

    async def shutdown(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = DEFAULT_NONE,
        write_timeout: ODVInput[float] = DEFAULT_NONE,
        connect_timeout: ODVInput[float] = DEFAULT_NONE,
        pool_timeout: ODVInput[float] = DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if self._session is None or self._session.closed:
            raise RuntimeError("AiohttpRequest is not initialized")
        read = _seconds(read_timeout, self._read_timeout)
        connect = _seconds(connect_timeout, self._connect_timeout)
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=connect, sock_read=read)
        data: Any = None
        if request_data is not None:
            data = request_data.json_parameters
            if request_data.contains_files:
                data = aiohttp.FormData(request_data.json_parameters)
                for name, part in (request_data.multipart_data or {}).items():
                    filename, content, content_type = part
                    data.add_field(name, content, filename=filename, content_type=content_type)
        try:
            proxy = self._proxy_for(url)
            async with self._session.request(
                method, url, data=data, timeout=timeout, proxy=proxy
            ) as response:
                return response.status, await response.read()
        except TimeoutError as exc:
            raise TimedOut("Timed out talking to the Bot API") from exc
        except asyncio.CancelledError:
            raise
        except aiohttp.ClientError as exc:
            # The URL holds the token: name the failure, never the request.
            raise NetworkError(f"aiohttp: {type(exc).__name__}") from exc

    def _proxy_for(self, url: str) -> str | None:
        """The proxy HTTPS_PROXY / HTTP_PROXY name for this host (None: NO_PROXY, or none),
        as httpx (python-telegram-bot's default client) would use. Looked up once per host:
        aiohttp's own `trust_env` reads the environment again for every request, which
        costs a quarter of a millisecond each."""
        parts = urllib.parse.urlsplit(url)
        key = (parts.scheme, parts.hostname or "")
        if key not in self._proxies:
            proxy = urllib.request.getproxies().get(parts.scheme)
            if proxy and urllib.request.proxy_bypass(parts.hostname or ""):
                proxy = None
            self._proxies[key] = proxy
        return self._proxies[key]


def _seconds(value: ODVInput[float], default: float | None) -> float | None:
    """A timeout python-telegram-bot passed, or ours when it passed its "default" marker."""
    if isinstance(value, DefaultValue):
        return default
    return value


class GatedRequest(AiohttpRequest):
    """python-telegram-bot's getUpdates request, wrapped for the inbox (see
    `bot.transports.telegram.inbox`): each call first waits for `gate()`, so the offset that
    acknowledges earlier updates goes out only once they are in the store; each answer is
    shown to `received` as it came, so the updates are stored from Telegram's own JSON, and
    its HTTP status to `answered` (to tell a conflict with another poller)."""

    def __init__(
        self,
        gate: Callable[[], Awaitable[None]],
        received: Callable[[bytes], None],
        answered: Callable[[int], None] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self._gate = gate
        self._received = received
        self._answered = answered

    async def do_request(self, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        await self._gate()
        code, payload = await super().do_request(*args, **kwargs)
        if self._answered is not None:
            self._answered(code)
        if code == 200:
            self._received(payload)
        return code, payload
