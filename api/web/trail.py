"""The product page's decision trail, one page at a time, newest first.

Paged by global-log position rather than by offset, so a page does not shift while the product
collects events: `?before=P` shows the latest events below P (older ones), `?after=P` the
earliest above P (newer ones). Plain links carry the cursor, so paging needs no script.
"""

from dataclasses import dataclass

from api.web import views
from store.event_store import EventStore

TRAIL_PAGE_SIZE = 25


class BadCursor(ValueError):
    """A `before`/`after` query parameter that is not a log position."""


@dataclass(frozen=True)
class TrailPage:
    entries: list[views.TimelineEntry]  # newest first
    newer: int | None  # the `after` cursor of the newer page; None on the latest page
    older: int | None  # the `before` cursor of the older page; None on the first page
    paged: bool  # a cursor was given (the page may not be the latest)


def cursors(before: str | None, after: str | None) -> tuple[int | None, int | None]:
    """The page link's (before, after) positions; BadCursor names what is wrong with them."""
    positions = (_position("before", before), _position("after", after))
    if None not in positions:
        raise BadCursor("page 'before' a position or 'after' one, not both")
    return positions


def _position(name: str, raw: str | None) -> int | None:
    if raw is None or raw == "":
        return None
    if not raw.isdigit() or len(raw) > 18:
        raise BadCursor(f"'{name}' must be a position in the log (a whole number), not {raw!r}")
    return int(raw)


async def trail_page(
    events: EventStore,
    stream_id: str,
    *,
    before: int | None,
    after: int | None,
    size: int = TRAIL_PAGE_SIZE,
) -> TrailPage:
    """One page, plus one probe in the other direction to know whether to link there."""
    page = await events.read_stream_page(stream_id, before=before, after=after, limit=size + 1)
    if after is not None:
        more_newer = len(page) > size
        page = page[:size]
        start = page[0].position if page else after + 1
        more_older = bool(await events.read_stream_page(stream_id, before=start, limit=1))
    else:
        more_older = len(page) > size
        page = page[-size:] if page else page
        end = page[-1].position if page else (before or 0) - 1
        more_newer = before is not None and bool(
            await events.read_stream_page(stream_id, after=end, limit=1)
        )
    return TrailPage(
        entries=[views.timeline_entry(e.data, e.recorded_at) for e in reversed(page)],
        newer=page[-1].position if page and more_newer else None,
        older=page[0].position if page and more_older else None,
        paged=before is not None or after is not None,
    )
