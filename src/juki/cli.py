"""The `juki` command: Django's management commands, with hyphenated names allowed.

    juki seed --persons 20000 --seed 1
    juki load-towns towns.csv
    juki createstaff tanaka --role clerk
"""
import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "juki.conf.dev")
    args = list(sys.argv if argv is None else argv)
    if len(args) > 1 and not args[1].startswith("-"):
        args[1] = args[1].replace("-", "_")
    from django.core.management import execute_from_command_line

    from juki.core.errors import FontMissing

    try:
        execute_from_command_line(args)
    except FontMissing as exc:  # a package to install, not a bug: the message, no traceback
        print(f"juki: {exc}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
