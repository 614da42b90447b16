"""Argument types for the command lines (``type=`` of argparse): each turns a string into a
number or refuses it with a message that says what was expected, which argparse prints as a
one-line usage error."""

from __future__ import annotations

import argparse
import math


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """The commands' --help: "(default: X)" after each option, except where there is no
    default worth showing (None, a flag's False). A ``--x/--no-x`` pair
    (``argparse.BooleanOptionalAction``) shows the one that is in effect by default."""

    def _get_help_string(self, action):
        if action.default is None or action.default is argparse.SUPPRESS:
            return action.help
        if isinstance(action, argparse.BooleanOptionalAction):
            help = (action.help or "").replace(" (default: %(default)s)", "")  # Python 3.10
            on, off = action.option_strings[:2]
            return f"{help} (default: {on if action.default else off})"
        if isinstance(action.default, bool):
            return action.help
        return super()._get_help_string(action)


def number(text: str) -> float:
    """A finite number."""
    try:
        x = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(x):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text}")
    return x


def _integer(text: str, minimum: int, expected: str) -> int:
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None
    if n < minimum:
        raise argparse.ArgumentTypeError(f"expected {expected}, got {n}")
    return n


def positive_int(text: str) -> int:
    """An integer >= 1."""
    return _integer(text, 1, "a positive integer")


def nonnegative_int(text: str) -> int:
    """An integer >= 0."""
    return _integer(text, 0, "an integer >= 0")


def positive_float(text: str) -> float:
    """A finite number > 0."""
    x = number(text)
    if x <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {x:g}")
    return x


def nonnegative_float(text: str) -> float:
    """A finite number >= 0."""
    x = number(text)
    if x < 0:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {x:g}")
    return x


def fraction(text: str) -> float:
    """A number strictly between 0 and 1."""
    x = number(text)
    if not 0 < x < 1:
        raise argparse.ArgumentTypeError(f"expected a number in (0, 1), got {x:g}")
    return x


def unit_float(text: str) -> float:
    """A number in [0, 1]."""
    x = number(text)
    if not 0 <= x <= 1:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1], got {x:g}")
    return x


def decay(text: str) -> float:
    """A number in [0, 1): a decay rate, 0 meaning none."""
    x = number(text)
    if not 0 <= x < 1:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1), got {x:g}")
    return x


class OrderedPair(argparse.Action):
    """``action=`` for an option of two numbers LO HI (``nargs=2``): refuses LO > HI with a
    usage error and stores the pair as a tuple."""

    def __call__(self, parser, namespace, values, option_string=None):
        lo, hi = values
        if lo > hi:
            parser.error(f"argument {option_string}: expected LO <= HI, got {lo:g} {hi:g}")
        setattr(namespace, self.dest, (lo, hi))
