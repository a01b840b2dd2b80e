"""Backups of the register and restore to a moment (`juki backup …`, `juki restore …`).

SQLite (juki.backup.sqlite): online copies with sqlite3's backup API, one 0600 file per backup in
JUKI_BACKUP_DIR (default VAR_DIR/backups), each with a JSON manifest. PostgreSQL (juki.backup.pg):
pgBackRest with an encrypted repository and continuous WAL archiving; named restore points.

Every backup and mark records the row count of every table and the audit chain's head
(juki.backup.fingerprint); `juki backup verify` restores the newest backup into a scratch copy (a
file, or a scratch cluster on a free loopback port) and compares, running `juki.audit.chain.verify()`
on the copy too. `juki restore` on PostgreSQL stops the cluster itself and starts it again (see
juki.backup.pg for the details and for --no-start with systemd). Settings are read from Django
settings, then the environment: JUKI_BACKUP_DIR, JUKI_PGBACKREST_STANZA (juki), JUKI_PGBACKREST_CONFIG,
JUKI_PG_DATA, JUKI_PG_CONF, JUKI_PGBIN (/usr/lib/postgresql/15/bin), JUKI_BACKUP_WAIT_SECONDS (300).
"""
