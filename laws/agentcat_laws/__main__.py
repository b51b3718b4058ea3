"""``python -m agentcat_laws module:object``: the ``agentcat-laws`` command."""

from __future__ import annotations

import sys

from agentcat_laws.cli import main

sys.exit(main())
