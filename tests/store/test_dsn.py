"""DSN rewriting keeps unix-socket URIs working."""

from __future__ import annotations

import pytest

from store.dsn import database_of, user_of, with_database, with_user

SOCKET = "postgresql://postgres:@/postgres?host=/tmp/lifecycle-pg-x/pgdata"


def test_with_database_keeps_host_and_user() -> None:
    assert with_database(SOCKET, "lifecycle_test_1") == (
        "postgresql://postgres:@/lifecycle_test_1?host=/tmp/lifecycle-pg-x/pgdata"
    )
    assert with_database("postgres://u:p@db:5433/a?sslmode=require", "b") == (
        "postgres://u:p@db:5433/b?sslmode=require"
    )
    assert database_of(with_database(SOCKET, "x y")) == "x y"


def test_with_user_replaces_credentials_everywhere() -> None:
    assert with_user(SOCKET, "lifecycle_app") == (
        "postgresql://lifecycle_app@/postgres?host=/tmp/lifecycle-pg-x/pgdata"
    )
    rewritten = with_user("postgresql://db/app?user=admin&password=secret", "app", "pw")
    assert rewritten == "postgresql://app:pw@db/app"
    assert user_of(rewritten) == "app"
    assert user_of("postgresql://db/app?user=admin") == "admin"
    assert user_of("postgresql://db/app") is None
    assert database_of("postgresql://db?dbname=x") == "x"


def test_only_uris_are_understood() -> None:
    with pytest.raises(ValueError, match="URI"):
        with_database("host=/tmp dbname=x", "y")
