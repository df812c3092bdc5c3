"""The command line, ``python -m recsys``: thin calls into the packages."""
