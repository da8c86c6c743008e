"""The product page's decision trail, one page at a time, newest first, optionally filtered.

Paged by global-log position rather than by offset, so a page does not shift while the product
collects events: `?before=P` shows the latest events below P (older ones), `?after=P` the
earliest above P (newer ones). Plain links carry the cursor and the filters, so paging needs no
script.

Filters (`type`, `actor`, `since`, `until`, as `store.trail.TrailFilter` means them) are applied
while reading the product's stream in batches in the page's direction: the store's filtered
reader only pages forward, and this page reads newest first. A product's stream is hundreds of
events, so the scan stays short; an unfiltered page reads exactly the events it shows.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import urlencode

from api.web import views
from store.event_store import EventStore
from store.events import RecordedEvent
from store.trail import EVENT_TYPES, TrailFilter

TRAIL_PAGE_SIZE = 25
SCAN_BATCH = 200  # events read per step while looking for a filtered page's entries
FILTER_FIELDS = ("type", "actor", "since", "until")
MAX_ACTOR = 128


class BadCursor(ValueError):
    """A `before`/`after` query parameter that is not a log position."""


class BadFilter(ValueError):
    """A trail filter or instant that cannot be read; `field` names the query parameter."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(f"{field_name}: {message}")
        self.field = field_name


@dataclass(frozen=True)
class TrailPage:
    entries: list[views.TimelineEntry]  # newest first
    newer: int | None  # the `after` cursor of the newer page; None on the latest page
    older: int | None  # the `before` cursor of the older page; None on the first page
    paged: bool  # a cursor was given (the page may not be the latest)
    instants: list[str] = field(default_factory=list)  # each entry's `as_of` value, in order


@dataclass(frozen=True)
class TrailFilters:
    """The filter form's values as typed (to refill it and carry on page links) and their
    meaning."""

    raw: dict[str, str] = field(default_factory=dict)  # only the fields given
    flt: TrailFilter = field(default_factory=TrailFilter)

    @property
    def active(self) -> bool:
        return bool(self.raw)


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


def parse_instant(field_name: str, raw: str, *, end_of_day: bool = False) -> datetime:
    """An ISO 8601 instant (`2026-03-01T12:00Z`; UTC when no offset is given) or a date (its
    midnight, or with `end_of_day` its last moment, so `until=2026-03-01` includes that day)."""
    text = raw.strip()
    if len(text) > 40:
        raise BadFilter(field_name, "an instant is at most 40 characters")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise BadFilter(
            field_name, f"{text!r} is not an instant; write it like 2026-03-01T12:00Z"
        ) from None
    if len(text) == 10 and end_of_day:
        moment = moment.replace(hour=23, minute=59, second=59, microsecond=999999)
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise BadFilter(field_name, f"{text!r} is out of range") from None


def parse_filters(query: Mapping[str, str]) -> TrailFilters:
    """The filters in a page's query; BadFilter names the first field that cannot be read."""
    raw = {name: query[name].strip() for name in FILTER_FIELDS if query.get(name, "").strip()}
    event_type = raw.get("type")
    if event_type is not None and event_type not in EVENT_TYPES:
        raise BadFilter("type", f"no event type named {event_type!r}")
    actor = raw.get("actor")
    if actor is not None and (
        len(actor) > MAX_ACTOR or any(ord(c) < 32 or ord(c) == 127 for c in actor)
    ):
        raise BadFilter("actor", f"a person's id is 1 to {MAX_ACTOR} printable characters")
    since = parse_instant("since", raw["since"]) if "since" in raw else None
    until = parse_instant("until", raw["until"], end_of_day=True) if "until" in raw else None
    if since is not None and until is not None and since > until:
        raise BadFilter("until", f"{raw['until']!r} is before since ({raw['since']!r})")
    flt = TrailFilter(
        since=since, until=until, actor=actor, types=(event_type,) if event_type else ()
    )
    return TrailFilters(raw=raw, flt=flt)


def page_link(query: Mapping[str, str], **cursor: int) -> str:
    """A link to another page of the trail keeping the filters (and the `as_of`) in force."""
    return "?" + urlencode({**{k: str(v) for k, v in cursor.items()}, **query})


def _keeps(flt: TrailFilter) -> Callable[[RecordedEvent], bool] | None:
    """The filter as a test of one stored event; None when it keeps everything. `actor` is the
    acting subject or the principal a delegate signed for, as in the store's reader."""
    if flt == TrailFilter():
        return None

    def keep(event: RecordedEvent) -> bool:
        if flt.types and event.type not in flt.types:
            return False
        if flt.since is not None and event.recorded_at < flt.since:
            return False
        if flt.until is not None and event.recorded_at > flt.until:
            return False
        if flt.actor is not None:
            people = (event.data.get("actor"), event.data.get("on_behalf_of"))
            subjects = {p.get("subject") for p in people if isinstance(p, dict)}
            if flt.actor not in subjects:
                return False
        return True

    return keep


@dataclass
class _Reader:
    events: EventStore
    stream_id: str
    keep: Callable[[RecordedEvent], bool] | None

    async def newer_than(self, position: int, want: int) -> list[RecordedEvent]:
        """Up to `want` kept events above `position`, in log order."""
        if self.keep is None:
            return await self.events.read_stream_page(self.stream_id, after=position, limit=want)
        found: list[RecordedEvent] = []
        while len(found) < want:
            batch = await self.events.read_stream_page(
                self.stream_id, after=position, limit=SCAN_BATCH
            )
            found += [e for e in batch if self.keep(e)]
            if len(batch) < SCAN_BATCH:
                break
            position = batch[-1].position
        return found[:want]

    async def older_than(self, position: int | None, want: int) -> list[RecordedEvent]:
        """Up to `want` kept events below `position` (None: the latest), in log order."""
        if self.keep is None:
            return await self.events.read_stream_page(self.stream_id, before=position, limit=want)
        found: list[RecordedEvent] = []
        while len(found) < want:
            batch = await self.events.read_stream_page(
                self.stream_id, before=position, limit=SCAN_BATCH
            )
            found = [e for e in batch if self.keep(e)] + found
            if len(batch) < SCAN_BATCH:
                break
            position = batch[0].position
        return found[-want:] if found else found


async def trail_page(
    events: EventStore,
    stream_id: str,
    *,
    before: int | None,
    after: int | None,
    size: int = TRAIL_PAGE_SIZE,
    flt: TrailFilter | None = None,
) -> TrailPage:
    """One page, plus one probe in the other direction to know whether to link there."""
    reader = _Reader(events, stream_id, _keeps(flt or TrailFilter()))
    if after is not None:
        page = await reader.newer_than(after, size + 1)
        more_newer = len(page) > size
        page = page[:size]
        start = page[0].position if page else after + 1
        more_older = bool(await reader.older_than(start, 1))
    else:
        page = await reader.older_than(before, size + 1)
        more_older = len(page) > size
        page = page[-size:] if page else page
        end = page[-1].position if page else (before or 0) - 1
        more_newer = before is not None and bool(await reader.newer_than(end, 1))
    return TrailPage(
        entries=[views.timeline_entry(e.data, e.recorded_at) for e in reversed(page)],
        newer=page[-1].position if page and more_newer else None,
        older=page[0].position if page and more_older else None,
        paged=before is not None or after is not None,
        instants=[instant_text(e.recorded_at) for e in reversed(page)],
    )


def instant_text(moment: datetime) -> str:
    """An instant as an `as_of` value reads best: ISO 8601 in UTC with a Z."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
