"""``python -m agentcat``: the same as the ``agentcat`` command."""

import sys

from agentcat._cli import main

sys.exit(main())
