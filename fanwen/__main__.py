"""``python -m fanwen``: the ``fanwen`` command."""

import sys

from fanwen.launcher import main

sys.exit(main())
