"""S2 住基ネット連携: the register's side of the 住基ネット. It reads the change outbox as the `jukinet`
destination (C05: the CS is reached only through it), turns each version a change wrote into a
本人確認情報 update (FILE-2) and sends it to the city's CS; what the CS refuses (C13) comes back here
as the error queue a clerk works off."""
