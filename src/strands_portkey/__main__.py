"""``python -m strands_portkey``: the ``strands-portkey`` command line."""

from .cli import main

if __name__ == "__main__":
    main()
