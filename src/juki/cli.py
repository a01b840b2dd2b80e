"""The `juki` command: Django's management commands, with hyphenated names allowed.

    juki seed --persons 20000 --seed 1
    juki load-towns towns.csv
    juki createstaff tanaka --role clerk
    juki network up          (the simulated 住基ネット: juki.network.cli)
    juki cs serve            (the city's 市町村CS, its own database: juki.cs.cli)
    juki intermediary up     (the 中間サーバー platform, its own PostgreSQL: juki.intermediary.cli)
    juki failover up         (a primary, its synchronous standby and the monitor: juki.failover)
    juki cities up           (北九州市 and 福岡市 on one network, each its own processes: juki.cities)
"""
import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "juki.conf.dev")
    args = list(sys.argv if argv is None else argv)
    # The network's peers and the city's CS are processes of their own, not the register's Django.
    if len(args) > 1 and args[1] == "network":
        from juki.network.cli import main as network
        return network(args[2:])
    if len(args) > 1 and args[1] == "cs":
        from juki.cs.cli import main as cs
        return cs(args[2:])
    if len(args) > 1 and args[1] == "intermediary":  # the 中間サーバー platform (issue 17)
        from juki.intermediary.cli import main as intermediary
        return intermediary(args[2:])
    if len(args) > 1 and args[1] == "failover":  # the standby that takes over (issue 18, ADR 0027)
        from juki.failover import main as failover
        return failover(args[2:])
    if len(args) > 1 and args[1] == "cities":
        from juki.cities import main as cities
        return cities(args[2:])
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
