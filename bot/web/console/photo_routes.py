"""A shopper's photo at full size (/photos/<id>, issue #19), for an agent who opens a ticket's
thumbnail. Only what bot/support/photos.py stored is ever served: a JPEG it drew itself, with
its own type (the security headers add nosniff, so a browser never guesses another)."""
from __future__ import annotations

from sanic import Sanic, response
from sanic.request import Request

from bot.support import accounts as agents, photos
from bot.web.console.context import ConsoleContext
from bot.web.console.guards import viewer


def register_photo_routes(app: Sanic, console: ConsoleContext) -> None:
    @app.get("/photos/<photo_id:int>")
    @viewer(console)
    async def photo(request: Request, agent: agents.Agent, photo_id: int):
        found = await console.reading(photos.image_of, photo_id)
        if found is None:
            return console.pages.refused(404, f"No photo #{photo_id}.", agent=agent)
        content_type, image = found
        return response.raw(image, content_type=content_type)
