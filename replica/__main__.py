"""``python -m replica SITE [SITE…] [--any-port] [--weight light|real] [--sizes]``: serve replica sites
(see server.py), or print what their pages weigh."""

import argparse
import statistics

from .page_weight import WEIGHTS, family_weight, page_sizes
from .server import serve
from .site import available_sites, load_site


def print_sizes(sites: list[str], weight: str) -> None:
    """Each site's page sizes as served (KB): smallest, median, largest per page kind."""
    print("| site | page kind | pages | smallest KB | median KB | largest KB | family range KB (real) |")
    print("|---|---|---|---|---|---|---|")
    for name in sites:
        site = load_site(name, weight)
        low_high = family_weight(site.definition.layout)
        for kind, sizes in page_sizes(site).items():
            low, high = (bound // 1024 for bound in low_high.size_range(kind))
            print(f"| {name} | {kind} | {len(sizes)} | {min(sizes) / 1024:.1f} | {statistics.median(sizes) / 1024:.1f} | "
                  f"{max(sizes) / 1024:.1f} | {low}-{high} |")


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m replica", description=__doc__)
    parser.add_argument("sites", nargs="*", default=None, help=f"replica sites (default: all of {available_sites()})")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--any-port", action="store_true", help="listen on free ports instead of the default ones")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds to wait before each answer")
    parser.add_argument("--weight", choices=WEIGHTS, default="light",
                        help="page weight: light (the templates alone) or real (with real pages' chrome, 40-200 KB)")
    parser.add_argument("--sizes", action="store_true", help="print the size of every page kind instead of serving")
    args = parser.parse_args()
    sites = args.sites or available_sites()
    if args.sizes:
        print_sizes(sites, args.weight)
        return
    serve(sites, {name: 0 for name in sites} if args.any_port else None, host=args.host, latency=args.latency,
          weight=args.weight)


if __name__ == "__main__":
    main()
