"""cutune from Python: Kernel Tuner's tune_kernel with cutune's search, measurement and
profile store, and run-time launches of the tuned configuration from CuPy or PyTorch.

    import cutune as kernel_tuner          # the one line a Kernel Tuner script changes
    results, env = kernel_tuner.tune_kernel("vector_add", source, n, [c, a, b, n], params)

    launch = cutune.Profiles("profiles.db").launcher("vector_add", source, params)
    launch(n, c, a, b, numpy.int32(n))     # on the current CuPy or PyTorch stream
"""
from . import _native
from .errors import *  # noqa: F401,F403 (cutune.Error and its subclasses)
from .errors import __all__ as _error_names
from .profiles import Launcher, Profiles, Selection
from .tuning import score, tune_kernel

__version__ = _native.text(_native.lib.cutune_version())


def strategies():
    """cutune's strategy names (Kernel Tuner's names for them are taken too)."""
    names, out = _native.lib.cutune_strategy_names(), []
    i = 0
    while names[i]:
        out.append(_native.text(names[i]))
        i += 1
    return out


__all__ = ["tune_kernel", "score", "Profiles", "Launcher", "Selection", "strategies",
           "__version__"] + list(_error_names)
