"""The `momlab` command: `momlab serve` runs the mock standalone for integrators; `momlab progress` shows a
learner which exercises pass; `momlab class ...` grades a class (momlab.course.classroom)."""

from __future__ import annotations

import argparse
import math
import signal
import sqlite3
import sys
import threading

from momlab.bus.config import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, default_config
from momlab.course.progress import DEFAULT_WORKERS


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="momlab", description="A mock Magento Order Management bus for learning and testing.")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the mock MOM until stopped (Ctrl+C)")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")
    serve.add_argument("--port", type=_port, default=8765, help="port (default 8765; 0 picks a free one)")
    serve.add_argument("--db", default="momlab.sqlite", help="SQLite file; kept across restarts (default momlab.sqlite)")
    serve.add_argument("--no-auth", action="store_true", help="accept calls without an OAuth token (for tooling)")
    serve.add_argument("--delay", type=float, default=None, help="seconds between the steps of a flow (default 0.2)")
    serve.add_argument("--client-id", default=DEMO_CLIENT_ID, help="OAuth client id to accept")
    serve.add_argument("--client-secret", default=DEMO_CLIENT_SECRET, help="OAuth client secret to accept")
    serve.add_argument("--hosted", action="store_true",
                       help="behave like MOM's cloud: deliveries to loopback or private addresses fail (register a tunnel's URL)")
    serve.add_argument("--tunnel", action="append", default=[], metavar="URL",
                       help="open a tunnel to a local server (e.g. http://127.0.0.1:8001/mom) and print its public URL; repeatable")
    progress = commands.add_parser("progress", help="run your lab notebooks (on copies) and show which exercises pass")
    progress.add_argument("--path", default=None, help="the folder holding your labs (default: notebooks/, or the labs here)")
    progress.add_argument("--workers", type=int, default=DEFAULT_WORKERS, help="notebooks run at once (default: two per core, %(default)s here)")
    progress.add_argument("--html", default=None, metavar="FILE", help="also write the tables and chart to this HTML file")
    from momlab.course.classroom.cli import add_commands

    add_commands(commands)
    args = parser.parse_args(argv)
    if args.command == "serve":
        return _serve(args)
    from momlab.course.errors import UserError

    try:
        return _progress(args) if args.command == "progress" else _class(args)
    except UserError as problem:
        print(f"momlab: {problem}", file=sys.stderr)
        return 2


def _progress(args) -> int:
    from momlab.course import progress

    result = progress.run(args.path, workers=args.workers)
    print(result.text(), end="")
    if args.html:
        with open(args.html, "w", encoding="utf-8") as page:
            page.write(f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>Progress</title></head><body>{result._repr_html_()}</body></html>")
        print(f"written to {args.html}")
    return 0


def _class(args) -> int:
    from momlab.course.classroom.cli import run

    return run(args)


def _port(text: str) -> int:
    port = int(text) if text.strip().isdigit() else -1
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port: use 1-65535, or 0 for any free one")
    return port


def _serve(args) -> int:
    from momlab.bus.tunnel import Tunnel
    from momlab.mock import Mock

    settings = {"auth": not args.no_auth, "client_id": args.client_id, "client_secret": args.client_secret, "hosted": args.hosted}
    try:
        tunnels = [Tunnel(target) for target in args.tunnel]
    except ValueError as exc:
        print(f"momlab: --tunnel: {exc}", file=sys.stderr)
        return 2
    if args.delay is not None:
        if not (math.isfinite(args.delay) and args.delay >= 0):
            print("momlab: --delay must be 0 or more seconds", file=sys.stderr)
            return 2
        settings["step_delay"] = args.delay
    try:
        mock = Mock(args.db, default_config(**settings), args.host, args.port).start()
    except OSError as exc:
        print(f"momlab: {exc}", file=sys.stderr)
        return 1
    except sqlite3.Error as exc:
        print(f"momlab: cannot use {args.db!r} as the database ({exc}); give --db a file in a folder you can write to.", file=sys.stderr)
        return 1
    print(f"momlab mock MOM listening on {mock.url}  (journal page: {mock.url}/)", flush=True)
    if mock.config.auth:
        print(f"OAuth: POST {mock.url}/oauth/token grant_type=client_credentials client_id={args.client_id} client_secret={args.client_secret}", flush=True)
    else:
        print("OAuth is off (--no-auth): calls need no token.", flush=True)
    if args.hosted:
        print("Hosted mode: deliveries to loopback, private or local-only addresses fail, as from MOM's cloud; register a tunnel's URL.", flush=True)
    for opened in tunnels:
        opened.start()
        print(f"Tunnel {opened.url} -> {opened.target}", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    stop.wait()
    for opened in tunnels:
        opened.close()
    mock.stop()
    return 0
