"""What it costs to hand arrays to a numba kernel: apart, in a plain tuple, in a named tuple, or
held by a numba-owned object (a ``jitclass``).

Run it under callgrind, which counts instructions (repeatable on a busy machine), once with
``0`` calls and once with ``N``; the difference over ``N`` is the cost of one call::

    for how in apart tuple namedtuple jitclass; do for n in 0 200000; do
        valgrind --tool=callgrind --callgrind-out-file=/dev/null python experiments/kernel_call_cost.py $how $n 2>&1 | grep Collected
    done; done

Nine arrays (five float64, three int64, one 2-D float32), as a kNN kernel takes, and an int.
"""

import collections
import sys

import numba
import numpy as np
from numba import types
from numba.experimental import jitclass

Arrays = collections.namedtuple("Arrays", "a b c d e f g h i")


@numba.njit(cache=True)
def apart(a, b, c, d, e, f, g, h, i, k):
    return a[0] + b[0] + c[0] + d[0] + e[0] + f[0] + g[0] + h[0] + i[0, 0] + k


@numba.njit(cache=True)
def in_namedtuple(s, k):
    return s.a[0] + s.b[0] + s.c[0] + s.d[0] + s.e[0] + s.f[0] + s.g[0] + s.h[0] + s.i[0, 0] + k


@jitclass([(n, types.float64[:]) for n in "abcde"] + [(n, types.int64[:]) for n in "fgh"]
          + [("i", types.float32[:, :])])
class Held:
    """The nine arrays held by an object numba owns (its state lives outside Python)."""

    def __init__(self, a, b, c, d, e, f, g, h, i):
        self.a, self.b, self.c, self.d, self.e = a, b, c, d, e
        self.f, self.g, self.h, self.i = f, g, h, i


@numba.njit  # a jitclass argument cannot be cached; compiled alike for 0 and N calls
def in_jitclass(s, k):
    return s.a[0] + s.b[0] + s.c[0] + s.d[0] + s.e[0] + s.f[0] + s.g[0] + s.h[0] + s.i[0, 0] + k


@numba.njit(cache=True)
def in_tuple(s, k):
    return s[0][0] + s[1][0] + s[2][0] + s[3][0] + s[4][0] + s[5][0] + s[6][0] + s[7][0] + s[8][0, 0] + k


def main(how: str, n: int) -> None:
    arrays = [np.zeros(10) for _ in range(5)] + [np.zeros(10, dtype=np.int64) for _ in range(3)]
    arrays.append(np.zeros((3, 4), dtype=np.float32))
    named, plain = Arrays(*arrays), tuple(arrays)
    held = Held(*arrays)
    apart(*arrays, 1), in_namedtuple(named, 1), in_tuple(plain, 1)  # compiled or loaded: not counted apart
    in_jitclass(held, 1)
    a, b, c, d, e, f, g, h, i = arrays
    if how == "apart":
        for _ in range(n):
            apart(a, b, c, d, e, f, g, h, i, 1)
    elif how == "tuple":
        for _ in range(n):
            in_tuple(plain, 1)
    elif how == "namedtuple":
        for _ in range(n):
            in_namedtuple(named, 1)
    elif how == "jitclass":
        for _ in range(n):
            in_jitclass(held, 1)
    else:
        raise SystemExit(f"usage: kernel_call_cost.py apart|tuple|namedtuple|jitclass N (got {how!r})")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
