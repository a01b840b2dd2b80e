"""Domain services of the register: every write to a resident goes through here."""
