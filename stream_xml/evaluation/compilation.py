"""numba's compilation time, measured so the loop can keep it out of the models' speed.

A kernel (``@njit(cache=True)``) is compiled on its first call and the machine code kept on disk
next to its module, so later runs only load it. On a fresh checkout a first run can spend most of
its time compiling (iHOMER on Yeast: about 50 s against 1 s of learning), which, charged to the
record that happened to call the kernel first, would make the model look a hundred times slower
than it is. :data:`COMPILE_CLOCK` listens to numba's event API (``numba.core.event``) for the whole
process: ``seconds`` adds up the time numba holds its compiler lock (outermost acquisitions only:
compiling, and loading compiled kernels from the cache), ``compile_seconds`` the part spent
actually compiling, ``compiled`` counts the kernels compiled. The loop reads ``seconds`` before and
after every call of a model and subtracts the difference, which it reports apart.

One listener serves the whole process (registering one per call would cost more than a fast
model's call); it never runs unless numba compiles or loads something, so a warm process pays
nothing. Compilations of other threads are counted too (numba compiles under one global lock).

numba's first kernel call in a process also sets numba itself up (its typing and target
contexts: about half a second here). Most of that is under the lock, but some 20-30 ms are not
(typing the arguments and running a kernel for the first time), so the clock cannot see them, and
the loop charged them to the model that happened to call a kernel first (issue 23's twelfth
round: iHOMER's first record on Emotions took 22-31 ms against 5-6 ms once numba was up, over a
tenth of its whole run). :meth:`CompileClock.start_numba` makes that first call on a one-line
kernel, once per process, before any model is timed, and counts all of its time.

>>> from numba import njit
>>> @njit
... def twice(v):
...     return 2 * v
>>> before = COMPILE_CLOCK.snapshot()
>>> twice(21)
42
>>> spent = COMPILE_CLOCK.since(before)
>>> spent.compiled, spent.seconds > 0, spent.compile_seconds <= spent.seconds
(1, True, True)
>>> twice(1)  # compiled already: nothing more
2
>>> COMPILE_CLOCK.since(before).compiled
1

"""

from __future__ import annotations

import time
import typing

import numpy as np
from numba import njit
from numba.core import event

__all__ = ["CompileClock", "CompileSpent", "COMPILE_CLOCK"]

_LOCK = "numba:compiler_lock"
_COMPILE = "numba:compile"


class CompileSpent(typing.NamedTuple):
    """What numba spent between two snapshots: seconds under its compiler lock (compiling and
    loading from the cache), seconds compiling, kernels compiled."""

    seconds: float
    compile_seconds: float
    compiled: int


class CompileClock(event.Listener):
    """Adds up numba's compiler-lock and compile time (see the module docstring).

    ``on_compile``, when set, is called once per setting at the start of the first compilation
    after it was set (the loop prints its "compiling (first run only)" notice from there).
    """

    #: whether :meth:`start_numba` has run in this process (numba is set up once per process)
    started_numba = False

    def __init__(self):
        self.seconds = 0.0
        self.compile_seconds = 0.0
        self.compiled = 0
        self.on_compile: typing.Callable[[], None] | None = None
        self._depth = {_LOCK: 0, _COMPILE: 0}
        self._started = {_LOCK: 0.0, _COMPILE: 0.0}

    def on_start(self, ev) -> None:
        kind = ev.kind
        if self._depth[kind] == 0:
            self._started[kind] = time.perf_counter()
        self._depth[kind] += 1
        if kind == _COMPILE:
            self.compiled += 1
            notify, self.on_compile = self.on_compile, None
            if notify is not None:
                notify()

    def on_end(self, ev) -> None:
        kind = ev.kind
        self._depth[kind] -= 1
        if self._depth[kind] == 0:
            spent = time.perf_counter() - self._started[kind]
            if kind == _LOCK:
                self.seconds += spent
            else:
                self.compile_seconds += spent

    def start_numba(self) -> float:
        """Set numba up in this process, once (module docstring): the seconds its first call took,
        all counted into :attr:`seconds` (0.0 on every later call)."""
        if self.started_numba:
            return 0.0
        before = self.seconds
        started = time.perf_counter()
        _first_kernel(np.zeros(1))
        spent = time.perf_counter() - started
        self.seconds = before + spent  # what it spent under the lock is counted within the whole
        CompileClock.started_numba = True
        return spent

    def snapshot(self) -> CompileSpent:
        return CompileSpent(self.seconds, self.compile_seconds, self.compiled)

    def since(self, before: CompileSpent) -> CompileSpent:
        """What was spent since ``before`` (a :meth:`snapshot`)."""
        return CompileSpent(self.seconds - before.seconds, self.compile_seconds - before.compile_seconds,
                            self.compiled - before.compiled)


@njit(cache=True)
def _first_kernel(values):
    return values[0]


COMPILE_CLOCK = CompileClock()
event.register(_LOCK, COMPILE_CLOCK)
event.register(_COMPILE, COMPILE_CLOCK)
