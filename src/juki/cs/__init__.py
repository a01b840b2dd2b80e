"""S3 市町村CS (コミュニケーションサーバ): the city's node of the 住基ネット, its own process and database.

It keeps FILE-2 (本人確認情報) with its history, checks each update the register's 住基ネット連携
(S2) sends it (C13), and passes accepted updates on to the prefecture server in the order of their
更新順番号: retried with back-off while the prefecture is away, refused ones kept as dead letters.
It never reads the register's database; the register never reads its (ADR 0022).
"""
