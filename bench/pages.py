"""Page benchmark: requests per second on the public pages, served with DEBUG off.

    .venv/bin/python bench/pages.py                          # 8 readers, 10 s per page
    .venv/bin/python bench/pages.py --clients 4 --seconds 5

It works in a throwaway folder (its own SQLite database and search index), loads the demo library
(`load_demo`), builds the index (`search_index rebuild`), turns DEBUG off and serves the WSGI
application in this process with Django's threaded server on a free port. Then, page by page
(home, the library, one story, a search), --clients readers each keep one HTTP/1.1 connection
open and ask for the page again as soon as the last answer arrived, for --seconds seconds (a small
wrk). It prints requests per second, the median and 95th percentile latency, and the database
queries one request makes, counted through Django's test client for an anonymous reader and for
a signed-in colleague (staff). Readers and server share this process and its interpreter lock, so
the figures compare runs on one machine; they are not a capacity plan.
"""

from __future__ import annotations

import argparse
import http.client
import shutil
import statistics
import sys
import tempfile
import threading
import time
from io import StringIO
from pathlib import Path

from benchenv import configure, print_machine

SEARCH_WORDS = "customer"


def benchmark_pages() -> list[tuple[str, str]]:
    """(label, path) for each page timed; the story is one in the middle of the library, with neighbours."""
    from stories.listing import visible_stories

    public = list(visible_stories(None).filter(teller__isnull=False, people__isnull=False).distinct())
    story = public[len(public) // 2]
    return [
        ("home", "/"),
        ("library", "/stories/"),
        ("story", story.url),
        ("search", f"/search/?q={SEARCH_WORDS}"),
    ]


def queries_per_request(path: str, user=None) -> int:
    """Database queries one GET of `path` makes (after a first, warming GET)."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    browser = Client()
    if user is not None:
        browser.force_login(user)
    browser.get(path)
    with CaptureQueriesContext(connection) as queries:
        response = browser.get(path)
    if response.status_code != 200:
        raise SystemExit(f"{path} answered {response.status_code}")
    return len(queries)


def start_server():
    """Django's threaded development server on a free port, quiet, serving the WSGI application."""
    from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler

    from storybank.wsgi import application  # as gunicorn serves it: the model loads in the background

    class QuietHandler(WSGIRequestHandler):
        def log_message(self, format, *args):
            pass

    server = ThreadedWSGIServer(("127.0.0.1", 0), QuietHandler, allow_reuse_address=True)
    server.set_app(application)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def hammer(port: int, path: str, clients: int, seconds: float) -> tuple[int, list[float], int]:
    """`clients` readers, each on its own keep-alive connection, for `seconds`: (answers, latencies ms, errors)."""
    deadline = time.perf_counter() + seconds
    latencies: list[list[float]] = [[] for _ in range(clients)]
    errors = [0] * clients

    def reader(number: int) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            try:
                connection.request("GET", path)
                response = connection.getresponse()
                response.read()
            except (OSError, http.client.HTTPException):
                errors[number] += 1
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                continue
            if response.status != 200:
                errors[number] += 1
                continue
            latencies[number].append((time.perf_counter() - started) * 1000)
        connection.close()

    threads = [threading.Thread(target=reader, args=(number,)) for number in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    every = [latency for per_reader in latencies for latency in per_reader]
    return len(every), every, sum(errors)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=8, help="concurrent readers (default 8)")
    parser.add_argument("--seconds", type=float, default=10.0, help="seconds per page (default 10)")
    parser.add_argument("--keep", action="store_true", help="keep the throwaway folder")
    args = parser.parse_args()

    print_machine()
    workdir = Path(tempfile.mkdtemp(prefix="storybank-pages-"))
    try:
        configure(workdir)
        from django.conf import settings
        from django.contrib.auth import get_user_model
        from django.core.management import call_command

        settings.DEBUG = False  # production mode: no query log, no debug context
        call_command("migrate", interactive=False, verbosity=0)
        call_command("load_demo", "--skip-search-index", stdout=StringIO())
        call_command("search_index", "rebuild", stdout=StringIO())
        staff = get_user_model().objects.create_user("bench-colleague", is_staff=True)
        pages = benchmark_pages()

        server = start_server()
        port = server.server_address[1]
        print(
            f"{len(pages)} pages · demo library · embedded search · DEBUG off · "
            f"{args.clients} readers · {args.seconds:g} s per page"
        )
        print()
        print("| Page | Path | Requests/s | p50 ms | p95 ms | Queries (anonymous / staff) |")
        print("|---|---|---:|---:|---:|---:|")
        for label, path in pages:
            anonymous_queries = queries_per_request(path)
            staff_queries = queries_per_request(path, staff)
            hammer(port, path, args.clients, min(1.0, args.seconds))  # warm every server thread
            answered, latencies, errors = hammer(port, path, args.clients, args.seconds)
            if not answered:
                raise SystemExit(f"{path}: no successful answers ({errors} errors)")
            print(
                f"| {label} | `{path}` | {answered / args.seconds:.1f} | "
                f"{statistics.median(latencies):.1f} | {percentile(latencies, 0.95):.1f} | "
                f"{anonymous_queries} / {staff_queries} |" + (f" {errors} errors" if errors else "")
            )
            sys.stdout.flush()
        server.shutdown()
    finally:
        if args.keep:
            print(f"Kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
