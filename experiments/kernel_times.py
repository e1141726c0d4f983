"""How much of a model's time its numba kernels take, without a profiler: every kernel the
model's modules call is wrapped in a timer (two ``perf_counter_ns`` reads, about 0.3 µs a call,
printed), the stream is run once unwrapped first so that the kernels are loaded, then once
wrapped, predicting then learning every record as the prequential loop does (issue 23: whether
the speed bar is out of reach of the kernels alone).

cProfile adds a fixed cost to every call, and far more of them to the Python between the
kernels than to the kernels, so the shares it gives are not the unprofiled ones.

    STREAM_XML_DATA=../shared/datasets python experiments/kernel_times.py --source yeast --model ihomer --model mlhat

``--model NAME[:k=v,...]`` (repeatable) as ``stream-xml evaluate``'s ``--param``.
"""

from __future__ import annotations

import argparse
import collections
import importlib
import pkgutil
import sys
import time

import numba

from model_specs import add_source_and_models, models_of


def _kernels() -> dict:
    """id -> (dispatcher, "module.function") of every numba kernel defined in a stream_xml module
    but the evaluation's (the metrics): the ``*_kernels`` modules' and those kept next to the
    class that owns their arrays (``leaf_policies.ranked_into``, ``label_fallback``'s, ...)."""
    import stream_xml

    found = {}
    for info in pkgutil.walk_packages(stream_xml.__path__, "stream_xml."):
        if ".evaluation" in info.name or info.name.endswith("__main__") or ".cli" in info.name:
            continue
        module = importlib.import_module(info.name)
        for name, value in vars(module).items():
            if isinstance(value, numba.core.registry.CPUDispatcher) and value.py_func.__module__ == info.name:
                found[id(value)] = (value, f"{info.name.rsplit('.', 1)[-1]}.{name}")
    return found


def _timed(kernel, label: str, totals: dict):
    clock = time.perf_counter_ns

    def timed(*args, **kwargs):
        started = clock()
        out = kernel(*args, **kwargs)
        entry = totals[label]
        entry[0] += 1
        entry[1] += clock() - started
        return out

    return timed


def _wrap_everywhere(totals: dict) -> None:
    """Replace every reference to a kernel held as a global of a loaded stream_xml module (the
    kernels call each other inside numba, which this does not touch)."""
    kernels = _kernels()
    wrapped = {}
    for module_name, module in list(sys.modules.items()):
        if module is None or not module_name.startswith("stream_xml") or ".evaluation" in module_name:
            continue
        for name, value in list(vars(module).items()):
            if id(value) in kernels:
                if id(value) not in wrapped:
                    wrapped[id(value)] = _timed(value, kernels[id(value)][1], totals)
                setattr(module, name, wrapped[id(value)])


def _timer_cost(n: int = 100_000) -> float:
    """Seconds one empty call through a timer wrapper takes."""
    timed = _timed(lambda: None, "empty", collections.defaultdict(lambda: [0, 0]))
    started = time.perf_counter()
    for _ in range(n):
        timed()
    return (time.perf_counter() - started) / n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_source_and_models(parser)
    parser.add_argument("--top", type=int, default=8, help="kernels listed per model")
    args = parser.parse_args()

    from connectors.catalog import open_source
    from model_specs import model_from_spec

    records = [(r.x, frozenset(r.y)) for r in open_source(args.source)]
    specs = models_of(args)

    def run(m) -> float:
        started = time.perf_counter()
        for x, labels in records:
            m.predict_with_scores(x)
            m.learn_labelset(x, labels)
        return time.perf_counter() - started

    for spec in specs:  # loads (or compiles) the kernels, and imports every module the models use
        run(model_from_spec(spec))
    totals: dict = collections.defaultdict(lambda: [0, 0])
    _wrap_everywhere(totals)
    n = len(records)
    print(f"{args.source}: {n} records; a timer wrapper costs {_timer_cost() * 1e6:.2f} µs a call (included below)")
    for spec in specs:
        totals.clear()
        wall = run(model_from_spec(spec))
        calls = sum(c for c, _ in totals.values())
        kernel_s = sum(ns for _, ns in totals.values()) / 1e9
        print(f"{spec}: {wall / n * 1e6:.1f} µs a record, of which kernels {kernel_s / n * 1e6:.1f} µs "
              f"({kernel_s / wall:.0%}) in {calls / n:.1f} calls")
        for label, (c, ns) in sorted(totals.items(), key=lambda kv: -kv[1][1])[: args.top]:
            print(f"    {label:42s} {c / n:6.2f} calls {ns / 1e3 / n:8.2f} µs a record")


if __name__ == "__main__":
    main()
