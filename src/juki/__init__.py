"""juki: a Basic Resident Register (住民基本台帳) platform."""
