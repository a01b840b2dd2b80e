"""The staff screens' menu and each user's first screen, as one registry.

Each screen app registers its entries in its `AppConfig.ready()`; the page frame
(`ui/base.html`) and `access.home_for` read them here. So no screen app names another's views or
URLs, and a new app adds its screens without touching the frame (issue 13)."""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from django.urls import get_script_prefix, get_urlconf, reverse


@dataclass(frozen=True)
class Entry:
    """A link of the menu bar: shown to a user who holds any one of `rights`."""

    label: str
    url_name: str
    rights: tuple[str, ...]
    accesskey: str
    order: int
    args: tuple = ()

    def url(self) -> str:
        return _reversed(get_script_prefix(), get_urlconf(), self.url_name, self.args)


@dataclass(frozen=True)
class Home:
    """A user's first screen: the lowest `rank` whose `right` the user holds (an auditor has no search)."""

    rank: int
    right: str
    url_name: str


@lru_cache(maxsize=256)
def _reversed(prefix: str, urlconf, url_name: str, args: tuple) -> str:
    """The menu's links are the same on every screen: reversed once per prefix and URLconf (the
    arguments are the cache's key; `reverse` reads both from the request's thread)."""
    return reverse(url_name, args=args)


def link(url_name: str, *args) -> str:
    """A screen's link that is the same for every user (an operation's form, a menu entry), reversed
    once: `{% url %}` costs about 27 µs, and the person screen had 37 of them (issue 18, load profile)."""
    return _reversed(get_script_prefix(), get_urlconf(), url_name, args)


_ENTRIES: dict[tuple, Entry] = {}
_HOMES: dict[tuple, Home] = {}


def register(*items: Entry | Home) -> None:
    """Add menu entries and first screens; the same one twice is kept once (ready() may run again)."""
    for item in items:
        if isinstance(item, Entry):
            _ENTRIES[(item.url_name, item.args)] = item
        else:
            _HOMES[(item.right, item.url_name)] = item


def entries() -> list[Entry]:
    return sorted(_ENTRIES.values(), key=lambda e: e.order)


def homes() -> list[Home]:
    return sorted(_HOMES.values(), key=lambda h: h.rank)


def holds(user, right: str) -> bool:
    """The signed-in `user` holds `right` today (a visitor holds none)."""
    return bool(getattr(user, "is_authenticated", False)) and user.has_juki_perm(right)


def entries_for(user) -> list[dict]:
    """The menu bar as `user` sees it: only the links their rights open."""
    return [{"label": e.label, "url": e.url(), "accesskey": e.accesskey}
            for e in entries() if any(holds(user, r) for r in e.rights)]


def home_url_for(user) -> str | None:
    return next((reverse(h.url_name) for h in homes() if holds(user, h.right)), None)
