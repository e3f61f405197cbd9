"""Chaos suite: the same scripted two-way edit history synced undisturbed and disturbed."""
