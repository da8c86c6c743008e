"""`python -m runtime.probe URL`: the container health check (the slim image has no curl).

Exit 0 when the URL answers 2xx within the timeout, 1 otherwise, with the reason on stderr
(Docker keeps the last lines in `docker inspect`)."""

import sys
import urllib.error
import urllib.request

TIMEOUT_SECONDS = 4.0


def probe(url: str) -> str | None:
    """None when healthy, else why not."""
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_SECONDS) as response:
            status: int = response.status
    except urllib.error.HTTPError as error:
        return f"{url} answered {error.code}: {error.read(500).decode(errors='replace')}"
    except (urllib.error.URLError, TimeoutError, OSError) as error:
        return f"{url} did not answer: {error}"
    return None if 200 <= status < 300 else f"{url} answered {status}"


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        sys.stderr.write("usage: python -m runtime.probe URL\n")
        return 2
    problem = probe(argv[0])
    if problem is not None:
        sys.stderr.write(problem + "\n")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
