import sys

from stream_xml.cli import main

sys.exit(main())
