"""団体内統合宛名 (S5): one 統一識別番号 per person any business system knows."""
