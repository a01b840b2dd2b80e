"""In the register's test settings only: the CS's models live in their own database (alias `cs`),
as they do in the CS's own process, so no test can join the two by accident."""


class CsRouter:
    def _db(self, model):
        return "cs" if model._meta.app_label == "cs" else None

    db_for_read = db_for_write = lambda self, model, **hints: self._db(model)  # noqa: E731

    def allow_relation(self, a, b, **hints):
        return (a._meta.app_label == "cs") == (b._meta.app_label == "cs")

    def allow_migrate(self, db, app_label, **hints):
        return (db == "cs") == (app_label == "cs")
