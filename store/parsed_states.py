"""Products' states as parsed from their read-model rows, kept between reads of the whole
portfolio.

The board and the inbox read every product's state at each load, and parsing a state is most of
that cost (0.29 ms a product, 2.9 s at 10,000; docs/performance.md, "Portfolio pages at
scale"). Between two loads few products change, so a load asks each row only for its version
and parses again only the rows written since. A row's version is its ``xmin`` (the transaction
that last wrote it: any upsert and any rebuild changes it) with its ``last_position``, so a
kept state is never served for a row that was rewritten, even by another process.

The kept states cost the memory of one load's states, which every load held anyway; products
gone from the read model (a rebuild forgets rows no event supports) are forgotten on the next
read of the whole portfolio.
"""

from __future__ import annotations

import asyncpg

from domain.state import ProductState
from store.state_playbooks import read_states, stored_states

_VERSIONS = """
SELECT product_id, xmin::text || ':' || last_position AS row_version FROM public.product_states
 WHERE ($1::text IS NULL OR status = $1)
 ORDER BY product_id
"""
_ROWS = """
SELECT product_id, xmin::text || ':' || last_position AS row_version,
       state::text AS state, playbook_fingerprint, pending_playbook_fingerprint
  FROM public.product_states
 WHERE product_id = ANY($1::text[])
"""


class ParsedStates:
    """The states of the last reads, by product, each with the version of the row it came from."""

    def __init__(self) -> None:
        self._kept: dict[str, tuple[str, ProductState]] = {}
        self.parsed = 0  # states parsed over all reads: observable, for tests and benches

    def __len__(self) -> int:
        """How many products' states are kept."""
        return len(self._kept)

    async def read(
        self, conn: asyncpg.Connection, status: str | None, page_size: int
    ) -> list[ProductState]:
        """Every product's state with ``status`` (any, if None), ordered by product id. Run it
        in one snapshot (a repeatable-read transaction) so versions and rows agree."""
        versions = await conn.fetch(_VERSIONS, status)
        found: dict[str, ProductState] = {}
        stale: list[str] = []
        for row in versions:
            kept = self._kept.get(row["product_id"])
            if kept is not None and kept[0] == row["row_version"]:
                found[row["product_id"]] = kept[1]
            else:
                stale.append(row["product_id"])
        for start in range(0, len(stale), page_size):
            rows = await conn.fetch(_ROWS, stale[start : start + page_size])
            states = await read_states(conn, stored_states(rows))
            self.parsed += len(states)
            for row, state in zip(rows, states, strict=True):
                found[row["product_id"]] = state
                self._kept[row["product_id"]] = (row["row_version"], state)
        if status is None:
            for gone in self._kept.keys() - found.keys():
                del self._kept[gone]
        return [found[row["product_id"]] for row in versions]
