"""Scoring's pure core: facts from events, the ruler, exact card arithmetic. No I/O imports here."""
