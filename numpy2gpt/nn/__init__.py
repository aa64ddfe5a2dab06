"""numpy2gpt.nn (filled in by the nn issue)."""

from . import functional  # noqa: F401
