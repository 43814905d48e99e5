"""``python -m datamodules inspect data=<name> data.root=<path>``: see :mod:`datamodules.inspection`."""
from __future__ import annotations

import argparse
import sys

from datamodules import inspection


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m datamodules")
    commands = parser.add_subparsers(dest="command", required=True)
    inspect = commands.add_parser("inspect", help="count and validate the sources of a data config (JSON)")
    inspect.add_argument("overrides", nargs="*", help="Hydra overrides, e.g. data=coco data.root=/datasets/coco")
    args = parser.parse_args(argv)
    return inspection.main(args.overrides)


if __name__ == "__main__":
    sys.exit(main())
