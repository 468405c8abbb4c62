"""``python -m rag.cli``: the ``vraagbaak`` command without the installed script."""

import sys

from rag.cli import main

sys.exit(main())
