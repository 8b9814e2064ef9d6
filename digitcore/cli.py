"""The command line: ``python -m digitcore list|train|evaluate|reproduce|info``."""

import argparse
import logging
import sys
import time
from pathlib import Path

from digitcore import registry
from digitcore.recipes import RECIPE_NAMES

logger = logging.getLogger("digitcore")


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line, naming the value and the valid choices."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message}\n")


def _variant_name(value):
    if value not in registry.VARIANTS:
        raise argparse.ArgumentTypeError(
            f"unknown variant {value!r} (choose from {', '.join(registry.VARIANTS)})")
    return value


def _positive_int(value):
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid value {value!r}: expected a whole number") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"invalid value {value!r}: expected a number of at least 1")
    return number


def _non_negative_int(value):
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid value {value!r}: expected a whole number") from None
    if number < 0:
        raise argparse.ArgumentTypeError(f"invalid value {value!r}: expected a number of at least 0")
    return number


def _positive_float(value):
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid value {value!r}: expected a number") from None
    if not number > 0:
        raise argparse.ArgumentTypeError(f"invalid value {value!r}: expected a positive number")
    return number


def build_parser():
    parser = _Parser(prog="python -m digitcore",
                     description="Train, evaluate and inspect the digitcore model variants.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    commands.add_parser("list", help="show a table of the 17 model variants")
    commands.add_parser("info", help="show library versions, devices and the data checksum")

    train = commands.add_parser("train", help="train one variant and save the run")
    train.add_argument("variant", type=_variant_name, help="variant name, such as CNN-1")
    train.add_argument("--recipe", choices=RECIPE_NAMES, default="fast",
                       help="training recipe: fast (ours, default) or seed (the original protocol)")
    train.add_argument("--epochs", type=_positive_int, help="number of epochs (default: the recipe's)")
    train.add_argument("--batch-size", type=_positive_int, help="images per batch (default: the recipe's)")
    train.add_argument("--subset", type=_positive_int,
                       help="train on this many training images, stratified by digit (default: all)")
    train.add_argument("--learning-rate", type=_positive_float, help="peak learning rate (default: the recipe's)")
    train.add_argument("--seed", type=_non_negative_int, default=0, help="random seed (default: 0)")
    train.add_argument("--out", type=Path, help="run folder (default: runs/VARIANT)")

    evaluate = commands.add_parser("evaluate", help="evaluate a gallery variant or a .keras file")
    evaluate.add_argument("target", help="variant name (uses trained/VARIANT) or path to a .keras file")

    reproduce = commands.add_parser("reproduce", help="train a family, or every variant, into trained/")
    reproduce.add_argument("--family", choices=registry.FAMILIES, help="only this family (default: all)")
    reproduce.add_argument("--recipe", choices=RECIPE_NAMES, default="fast", help="training recipe")
    reproduce.add_argument("--epochs", type=_positive_int, help="override every recipe's epochs")
    reproduce.add_argument("--subset", type=_positive_int, help="train on this many images")
    reproduce.add_argument("--out", type=Path, help="gallery folder (default: trained/)")
    return parser


def main(argv=None):
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    logging.getLogger("digitcore").setLevel(logging.INFO)
    args = build_parser().parse_args(argv)

    from digitcore import commands

    handler = getattr(commands, f"run_{args.command}")
    try:
        return handler(args)
    except KeyboardInterrupt:
        print("interrupted: nothing was saved for the run in progress", file=sys.stderr)
        return 130
    except (ValueError, FileNotFoundError, RuntimeError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
