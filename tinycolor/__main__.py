"""``python -m tinycolor``: which command does what (the package itself runs nothing)."""

from __future__ import annotations

import sys

USAGE = """\
tinycolor: a from-scratch NumPy/CuPy neural-network library, and the colorizers built on it.

The commands:
  python -m tinycolor.train MODEL [options]             train a colorizer (a run folder with
                                                        its checkpoint, figures and metrics)
  python -m tinycolor.train --list                      the models
  python -m tinycolor.evaluate --checkpoint CKPT --data DIR
                                                        score a trained model and the baselines
  python -m tinycolor.colorize --checkpoint CKPT IMAGE  colour a photo with it

Each takes --help. Start with: python -m tinycolor.train ann_window
"""


COMMANDS = ("train", "evaluate", "colorize")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] not in ("-h", "--help"):
        command, rest = argv[0], argv[1:]
        if command in COMMANDS:  # python -m tinycolor train ann_window
            meant = f"python -m tinycolor.{command} {' '.join(rest)}"
        else:
            meant = f"python -m tinycolor.train {' '.join(argv)}"
        print(USAGE, file=sys.stderr)
        print(
            f"python -m tinycolor: error: the package runs nothing itself; did you mean "
            f"{meant.strip()}?",
            file=sys.stderr,
        )
        return 2
    print(USAGE, end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
