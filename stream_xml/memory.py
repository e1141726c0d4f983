"""How much memory an object holds, measured by walking what it references.

>>> import numpy as np
>>> from stream_xml.memory import deep_size
>>> deep_size(np.zeros(1000)) >= 8000
True
>>> shared = np.zeros(1000)
>>> deep_size([shared, shared]) < 2 * 8000  # an object reached twice counts once
True

"""

from __future__ import annotations

import sys
import types

import numpy as np

__all__ = ["deep_size"]

# what belongs to the program rather than to the object: never counted
_SKIPPED = (type, types.ModuleType, types.FunctionType, types.BuiltinFunctionType, types.MethodType)


def deep_size(obj) -> int:
    """Bytes of ``obj`` and of everything it references (containers, attributes, slots), each
    object once; numpy arrays count their buffers (a view counts its base once)."""
    seen: set[int] = set()
    stack = [obj]
    total = 0
    while stack:
        o = stack.pop()
        if id(o) in seen or isinstance(o, _SKIPPED):
            continue
        seen.add(id(o))
        if isinstance(o, np.ndarray):
            total += sys.getsizeof(o)  # the buffer too when the array owns it
            if o.base is not None:
                stack.append(o.base)
            if o.dtype == object:
                stack.extend(o.ravel().tolist())
            continue
        total += sys.getsizeof(o)
        if isinstance(o, dict):
            stack.extend(o.keys())
            stack.extend(o.values())
        elif isinstance(o, (list, tuple, set, frozenset)):
            stack.extend(o)
        if hasattr(o, "__dict__"):
            stack.append(o.__dict__)
        for cls in type(o).__mro__:
            slots = cls.__dict__.get("__slots__", ())
            for slot in (slots,) if isinstance(slots, str) else slots:
                if slot not in ("__dict__", "__weakref__") and hasattr(o, slot):
                    stack.append(getattr(o, slot))
    return total
