"""The consent ledger: what each record showed, what the sync wrote, what each person agreed."""
