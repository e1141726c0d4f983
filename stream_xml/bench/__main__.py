"""``python -m stream_xml.bench --child SPEC``: one bench run, in the child process the bench starts."""

import sys

from stream_xml.bench.runs import child

if len(sys.argv) == 3 and sys.argv[1] == "--child":
    sys.exit(child(sys.argv[2]))
sys.exit("usage: stream-xml bench ... (this module's own entry point is for its child processes)")
