"""tune_kernel's `cache=` outside simulation: Kernel Tuner's cache file of the results. An
existing one (of the same kernel, parameters and GPU, as Kernel Tuner requires) keeps its
entries; the new measurements are added, replacing those of the same configurations, and
the file is replaced whole, so that an interrupted write loses nothing."""
import ctypes
import json
import os
import tempfile

from . import _native as n
from .errors import InvalidArgumentError


def read(path):
    """The cache at path as a dict, or None when there is none. Kernel Tuner leaves its file
    unterminated while it tunes (and after a crash): such a file is closed here."""
    if not os.path.exists(path):
        return None
    try:
        with open(path) as f:
            text = f.read()
    except OSError as e:
        raise InvalidArgumentError(f"cache {path}: {e.strerror}") from None
    for attempt in (text, text.rstrip().rstrip(",") + "}}"):
        try:
            data = json.loads(attempt)
        except ValueError:
            continue
        if isinstance(data, dict) and isinstance(data.get("cache"), dict):
            return data
    raise InvalidArgumentError(f"cache {path} is not a Kernel Tuner cache file; move it away "
                               "or name another")


def check(existing, path, kernel_name, tune_params, device):
    """Before tuning: the existing cache must be of this kernel, these parameters and this
    GPU (device: an ordinal)."""
    if existing is None:
        return
    if existing.get("kernel_name") != kernel_name:
        raise InvalidArgumentError(f"cache {path} holds kernel '{existing.get('kernel_name')}', "
                                   f"not '{kernel_name}'")
    if list(existing.get("tune_params_keys", [])) != list(tune_params):
        raise InvalidArgumentError(f"cache {path} holds parameters "
                                   f"{existing.get('tune_params_keys')}, not {list(tune_params)}")
    info = n.DeviceInfo()
    if n.lib.cutune_device_query(int(device), ctypes.byref(info)) == 0 and \
            existing.get("device_name") not in (None, n.text(info.name)):
        raise InvalidArgumentError(f"cache {path} was measured on {existing['device_name']}, "
                                   f"not this {n.text(info.name)}")


def write(path, existing, written):
    """Writes the session's cache file (`written`, a path) to `path`, with the entries of
    `existing` it does not measure again."""
    with open(written) as f:
        new = json.load(f)
    if existing is not None:
        merged = dict(existing["cache"])
        merged.update(new["cache"])
        new["cache"] = merged
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".cutune-", dir=folder)
    try:
        with os.fdopen(fd, "w") as f:
            json.dump(new, f, indent=1)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
