"""``python -m upnpy``: the ``upnpy`` command."""

from ._cli import main

raise SystemExit(main())
