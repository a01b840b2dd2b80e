"""juki's database backends (Django's, with what the hot path needs changed; see each module)."""
