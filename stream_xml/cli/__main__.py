"""``python -m stream_xml.cli COMMAND ...``, the same as ``stream-xml COMMAND ...``."""

import sys

from stream_xml.cli import main

sys.exit(main())
