"""How many Python function calls a model makes a record, and which (issue 23: iHOMER spends more
of a record in Python than MLHAT does, and on a dozen labels a call costs about what its work
does). A count, not a time: it does not move with the machine's load, so two checkouts compare
exactly.

The stream is run once first with a model of its own, so that numba has loaded every kernel
(loading one is thousands of Python calls, once a process). A new model then learns the first
half of the stream unprofiled (test, then train, as the prequential loop does), and
``sys.setprofile`` counts, over the second half, the calls of Python functions
(numba kernels included: their dispatcher reports a call) and of C functions (builtins and
methods such as ``dict.get``), per record. Run from another checkout's folder with
``PYTHONPATH=.`` to count that checkout:

    STREAM_XML_DATA=../shared/datasets python experiments/python_calls.py --source foodtruck
    STREAM_XML_DATA=../shared/datasets python experiments/python_calls.py --source yeast --model ihomer --top 30

``--model NAME[:k=v,...]`` (repeatable; default ihomer and mlhat) as ``stream-xml evaluate``'s
``--param``.

Every array a kernel returns shows up as a call of numba's ``_numba_unpickle``: numba boxes the
array for Python and unpickles ``ndarray``'s class to do so, each time (about 0.7 µs a returned
array on these machines, where writing into an array the caller passed costs nothing extra;
issue 23's fourteenth round). ``--arrays`` lists those calls by the Python function whose kernel
call returned the array:

    STREAM_XML_DATA=../shared/datasets python experiments/python_calls.py --source emotions --arrays
"""

from __future__ import annotations

import argparse
import collections
import sys

from model_specs import add_source_and_models, models_of


def count_calls(spec: str, source_name: str) -> tuple[collections.Counter, collections.Counter, int]:
    """Calls per (file, function) over the second half of the stream, arrays returned by kernels
    per calling (file, function, line), and its records."""
    from connectors.catalog import open_source
    from model_specs import handed_over, model_from_spec

    def new_model():
        model = model_from_spec(spec)
        return model, handed_over(model, open_source(source_name))

    def test_then_train(x, truth) -> None:
        model.predict_with_scores(x)
        new = space.add_all(truth)
        if new:
            model.add_labels([space.names[i] for i in new])
        model.learn_labelset(x, truth)

    records = [(record.x, frozenset(record.y)) for record in open_source(source_name)]
    half = len(records) // 2
    model, space = new_model()
    for x, truth in records:  # numba loads the kernels
        test_then_train(x, truth)
    model, space = new_model()
    for x, truth in records[:half]:
        test_then_train(x, truth)
    counts: collections.Counter = collections.Counter()
    arrays: collections.Counter = collections.Counter()

    def profile(frame, event, arg) -> None:
        if event == "call":
            code = frame.f_code
            counts[(code.co_filename.rsplit("site-packages/", 1)[-1], code.co_name)] += 1
            if code.co_name == "_numba_unpickle":  # a kernel returned an array
                caller = frame.f_back
                arrays[(caller.f_code.co_filename, caller.f_code.co_name, caller.f_lineno)] += 1
        elif event == "c_call":
            counts[("C", getattr(arg, "__qualname__", repr(arg)))] += 1

    sys.setprofile(profile)
    try:
        for x, truth in records[half:]:
            test_then_train(x, truth)
    finally:
        sys.setprofile(None)
    return counts, arrays, len(records) - half


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_source_and_models(parser)
    parser.add_argument("--top", type=int, default=0, help="also list the N most called functions")
    parser.add_argument("--arrays", action="store_true", help="also list the arrays kernels return, by caller")
    args = parser.parse_args()
    for spec in models_of(args):
        counts, arrays, n = count_calls(spec, args.source)
        python = sum(v for (where, _), v in counts.items() if where != "C")
        c_calls = sum(counts.values()) - python
        print(f"{args.source} {spec}: {python / n:.1f} Python calls and {c_calls / n:.1f} C calls a record "
              f"(the second half's {n} records)")
        for (where, name), v in counts.most_common(args.top):
            print(f"  {v / n:7.2f}  {where[-48:]:48s} {name}")
        if args.arrays:
            print(f"  arrays returned by kernels: {sum(arrays.values()) / n:.2f} a record")
            for (where, name, line), v in arrays.most_common():
                print(f"  {v / n:7.2f}  {where[-48:]:48s} {name}:{line}")


if __name__ == "__main__":
    main()
