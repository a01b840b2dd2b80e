"""The 中間サーバー (S4, issue 17): a platform shared by several cities, a process of its own with its own
PostgreSQL database (ADR 0026). It imports nothing of the register's project: the city's register
feeds it through its outbox destination `intermediary` over mutual TLS."""
