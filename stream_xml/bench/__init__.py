"""Side-by-side runs: stream-xml's models beside river's and MOA's learners, on the same records.

Modules: :mod:`~stream_xml.bench.runs` (one model in a child process, the rows, ratios and
tables), :mod:`~stream_xml.bench.moa` (MOA's jar as an anchor), :mod:`~stream_xml.bench.vw` (Vowpal Wabbit's PLT as an anchor),
:mod:`~stream_xml.bench.processes`
(child processes with their peak memory). ``stream-xml bench`` (:mod:`stream_xml.cli.bench`) runs
them from the command line.
"""
