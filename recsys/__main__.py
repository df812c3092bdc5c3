"""``python -m recsys``: the command line (see recsys.cli)."""

import sys

from recsys.cli.main import main

sys.exit(main())
