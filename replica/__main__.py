"""``python -m replica SITE [SITE…] [--port-zero]``: serve replica sites (see server.py)."""

import argparse

from .server import serve
from .site import available_sites


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m replica", description=__doc__)
    parser.add_argument("sites", nargs="*", default=None, help=f"replica sites (default: all of {available_sites()})")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--any-port", action="store_true", help="listen on free ports instead of the default ones")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds to wait before each answer")
    args = parser.parse_args()
    sites = args.sites or available_sites()
    serve(sites, {name: 0 for name in sites} if args.any_port else None, host=args.host, latency=args.latency)


if __name__ == "__main__":
    main()
