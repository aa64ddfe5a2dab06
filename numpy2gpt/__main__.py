"""`python -m numpy2gpt train|sample|prepare|graph|run ...`: the same as the `numpy2gpt` command."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
