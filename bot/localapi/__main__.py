"""`python -m bot.localapi`: the local Bot API on 127.0.0.1 and the playground page, for any
bot. Point the bot at the printed base URL with the printed token; people write to it from
the page. Stop with Ctrl-C."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
import time

from bot.localapi.playground import Playground, world
from bot.localapi.server import LocalBotApi, random_token


async def serve(api_port: int, page_port: int) -> None:
    stop = asyncio.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        asyncio.get_running_loop().add_signal_handler(signum, stop.set)
    # A random token: a page elsewhere cannot guess it and make the bot send. Update ids
    # from the clock: a bot that kept its data from an earlier run sees none of them again.
    api = LocalBotApi(random_token(), first_update_id=int(time.time()))
    await api.start(api_port)
    playground = Playground(api, world(api))
    port = await playground.start(page_port)
    print(f"Bot API base URL: {api.base_url}  (token: {api.token})", flush=True)
    print(f"playground: http://127.0.0.1:{port}/", flush=True)
    try:
        await stop.wait()
    finally:
        await playground.stop()
        await api.stop()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bot.localapi", description=__doc__)
    parser.add_argument("--port", type=int, default=8081, help="the Bot API's port (8081)")
    parser.add_argument("--page", type=int, default=8765, help="the page's port (8765)")
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args.port, args.page))


if __name__ == "__main__":
    main()
