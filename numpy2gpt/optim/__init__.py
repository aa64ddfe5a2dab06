"""numpy2gpt.optim (filled in by the optim issue)."""
