"""中間サーバー連携 (既存システム連携, issue 17): the city's side of its link to the 中間サーバー platform.
An outbox consumer under the destination `intermediary` and its own system actor: it keeps the
platform's 副本 in step with the register, loads it in full from a consistent read, reconciles it
(C28), and serves the city's staff the platform's review queue and records. The platform itself is
`juki.intermediary`, a process of its own (ADR 0026)."""
