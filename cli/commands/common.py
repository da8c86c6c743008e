"""What the product command modules share: the product argument and the API path of a product."""

from __future__ import annotations

from typing import Annotated

import typer

from cli.client import segment

ProductArg = Annotated[str, typer.Argument(metavar="ID", help="The product's id.")]


def product_path(product_id: str, *rest: str) -> str:
    return "/".join(["/products", segment(product_id), *rest])
