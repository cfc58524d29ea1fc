"""Run time: the profile store's best configuration for a kernel, GPU and problem size
(Profiles.select), and launches of it on the current CuPy or PyTorch stream
(Profiles.launcher)."""
import ctypes
import json
import os
import sys
import tempfile
import threading
import weakref

import numpy as np

from . import _native as n
from . import arguments as args_mod
from . import errors
from . import spec as spec_mod
from .errors import InvalidArgumentError, NotFoundError

READONLY = 1
_LAUNCH, _SELECT = n.lib.cutune_launch, n.lib.cutune_select  # the calls on the hot paths


def _value(text):
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return text


def _problem3(problem_size):
    sizes = list(problem_size) if isinstance(problem_size, (list, tuple)) else [problem_size]
    if not 1 <= len(sizes) <= 3 or not all(isinstance(s, (int, np.integer)) and s >= 1
                                           for s in sizes):
        raise InvalidArgumentError(f"problem_size {problem_size!r}: 1 to 3 sizes of at least 1")
    return (ctypes.c_int64 * 3)(*(list(map(int, sizes)) + [1] * (3 - len(sizes))))


_PARSED = {}
_RULES = {r: n.text(n.lib.cutune_select_rule_name(r)) for r in range(4)}


_PROBLEMS = {}


def _problem_ref(problem_size):
    """problem_size as libcutune takes it, converted once per size."""
    key = problem_size if isinstance(problem_size, (int, tuple)) else tuple(problem_size)
    ref = _PROBLEMS.get(key)
    if ref is None:
        if len(_PROBLEMS) > 4096:
            _PROBLEMS.clear()
        ref = _PROBLEMS[key] = ctypes.byref(_problem3(problem_size))
    return ref


class Selection(dict):
    """The configuration chosen: parameter names to values, and how it was chosen (`rule`:
    "exact", "nearest size", "similar device" or "default"), the profile's `time_ms` and
    `problem_size`, and its `profile` id (0 for the default)."""

    @classmethod
    def of(cls, sel):
        key = (sel.params, sel.config)
        pairs = _PARSED.get(key)
        if pairs is None:  # a configuration is parsed once
            params, config = n.text(key[0]), n.text(key[1])
            names = params.split(",") if params else []
            values = config.split(",") if config else []
            pairs = tuple(zip(names, map(_value, values)))
            if len(_PARSED) < 4096:
                _PARSED[key] = pairs
        out = cls(pairs)
        out.rule = _RULES[sel.rule]
        out.time_ms = None if sel.time_ms != sel.time_ms else sel.time_ms
        out.problem_size = tuple(sel.problem)
        out.profile = sel.profile
        return out


class Profiles:
    """A profile store (cutune's SQLite file; None: $CUTUNE_DB or the default path), opened
    read-only unless writable=True."""

    def __init__(self, db=None, writable=False):
        self._store = ctypes.c_void_p()
        n.call("cutune_store_open", ctypes.byref(self._store),
               n.cstr(os.fspath(db)) if db else None, 0 if writable else READONLY)
        self.path = n.text(n.lib.cutune_store_path(self._store))
        self._devices, self._kernel_ids = {}, {}  # what select looked up once
        self._launchers = weakref.WeakSet()

    def close(self):
        """Closes the store, and the launchers over it first."""
        for launcher in list(getattr(self, "_launchers", ())):
            launcher.close()
        if getattr(self, "_store", None):
            n.lib.cutune_store_free(self._store)
            self._store = ctypes.c_void_p()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __del__(self):
        self.close()

    def list(self):
        """Every profile, as dicts."""
        out = []

        def keep(p, _user):
            p = p.contents
            params, config = n.text(p.params), n.text(p.config)
            out.append({"id": p.id, "kernel": n.text(p.kernel), "device": n.text(p.device),
                        "cc_major": p.cc_major, "cc_minor": p.cc_minor,
                        "sm_count": p.sm_count, "driver_version": p.driver_version,
                        "runtime_version": p.runtime_version,
                        "source_hash": n.text(p.source_hash), "user_key": n.text(p.user_key),
                        "problem_size": tuple(p.problem), "time_ms": p.time_ms,
                        "config": dict(zip(params.split(","), map(_value, config.split(","))))
                        if params else {}, "strategy": n.text(p.strategy),
                        "evaluations": p.evaluations})
            return 0

        n.call("cutune_store_list", self._store, n.PROFILE_FN(keep), None)
        return out

    def _device(self, device):
        if isinstance(device, dict):
            return ctypes.byref(self._describe(device))
        if device not in self._devices:  # None, an ordinal or a name: the same GPU each time
            self._devices[device] = ctypes.byref(self._describe(device))
        return self._devices[device]

    def _describe(self, device):
        info = n.DeviceInfo()
        if device is None or isinstance(device, int):
            n.call("cutune_device_query", int(device or 0), ctypes.byref(info))
        elif isinstance(device, str):
            known = [p for p in self.list() if p["device"] == device]
            if not known:
                raise NotFoundError(f"{self.path} knows no device named '{device}': describe it "
                                    "as a dict (name, cc_major, cc_minor, sm_count)")
            p = known[0]
            info.name = device.encode()[:255]
            info.cc_major, info.cc_minor = p["cc_major"], p["cc_minor"]
            info.sm_count, info.driver_version = p["sm_count"], p["driver_version"]
            info.runtime_version = p["runtime_version"]
        elif isinstance(device, dict):
            try:
                info.name = str(device["name"]).encode()[:255]
                info.cc_major, info.cc_minor = device["cc_major"], device["cc_minor"]
                info.sm_count = device["sm_count"]
            except KeyError as e:
                raise InvalidArgumentError(f"device lacks {e}: give name, cc_major, cc_minor "
                                           "and sm_count") from None
            info.driver_version = device.get("driver_version", 0)
            info.runtime_version = device.get("runtime_version", 0)
        else:
            raise InvalidArgumentError("device: an ordinal, a device name the store knows, or "
                                       "a dict (name, cc_major, cc_minor, sm_count)")
        return info

    def _source_hash(self, kernel, source, user_key):
        """(the hash that names the kernel's source in the store, whether that is settled:
        given, or the one version the store holds; a kernel the store does not hold yet is
        looked for again next time)."""
        if source is not None:
            buf = ctypes.create_string_buffer(33)
            data = source.encode()
            n.lib.cutune_source_hash(data, len(data), buf)
            return buf.value, True
        hashes = {p["source_hash"] for p in self.list()
                  if p["kernel"] == kernel and p["user_key"] == user_key}
        if len(hashes) > 1:
            raise InvalidArgumentError(f"{self.path} holds {len(hashes)} versions of kernel "
                                       f"'{kernel}': give source= to say which")
        return (hashes.pop().encode(), True) if hashes else (b"", False)

    def select(self, kernel, device=None, problem_size=1, source=None, user_key=""):
        """The configuration to run `kernel` (its name) with at this problem size on this
        device (None: GPU 0; an ordinal; a name the store knows; or a dict). source: the
        kernel's source, when the store holds several versions of it."""
        if not self._store:
            raise InvalidArgumentError(f"{self.path} is closed")
        info = self._device(device)
        kid = self._kernel_ids.get((kernel, source, user_key))
        if kid is None:
            source_hash, settled = self._source_hash(kernel, source, user_key)
            kid = ctypes.byref(n.KernelId(n.cstr(kernel), source_hash, n.cstr(user_key)))
            if settled:
                self._kernel_ids[kernel, source, user_key] = kid
        sel = n.Selection()
        status = _SELECT(self._store, info, kid, _problem_ref(problem_size), ctypes.byref(sel))
        if status:
            raise errors.from_status(status, n.text(n.lib.cutune_last_error()))
        return Selection.of(sel)

    def launcher(self, kernel_name, kernel_source, tune_params, grid_div_x=None,
                 grid_div_y=None, grid_div_z=None, block_size_names=None,
                 compiler_options=None, defines=None, smem_size=None, default=None,
                 user_key="", device=0, cache_dir=None):
        """A Launcher of `kernel_name` from kernel_source (its source, a file, or a CuPy
        RawKernel/RawModule, whose code is taken) with tune_kernel's geometry arguments."""
        return Launcher(self, kernel_name, kernel_source, tune_params,
                        (grid_div_x, grid_div_y, grid_div_z), block_size_names,
                        compiler_options, defines, smem_size, default, user_key, device,
                        cache_dir)


def _source_of(kernel_source):
    """(the kernel's source, its file or None)."""
    code = getattr(kernel_source, "code", None)  # CuPy's RawKernel and RawModule
    if isinstance(code, str):
        return code, None
    if isinstance(kernel_source, os.PathLike) or (isinstance(kernel_source, str) and
                                                  "\n" not in kernel_source and
                                                  os.path.isfile(kernel_source)):
        path = os.path.abspath(os.fspath(kernel_source))  # (its #includes are beside it)
        with open(path) as f:
            return f.read(), path
    if isinstance(kernel_source, str):
        return kernel_source, None
    raise InvalidArgumentError("kernel_source: the source, its file, or a CuPy RawKernel or "
                               "RawModule")


class Launcher:
    """Launches the store's configuration for each problem size: `launcher(problem_size,
    *args, stream=None)`. args: CuPy arrays or PyTorch tensors (on the GPU) and NumPy or
    Python scalars, as the kernel takes them. The stream is the current one of the framework
    the arrays belong to, unless given (a CuPy or PyTorch stream, or a raw cudaStream_t).
    Launches run in the device's primary context, the one CuPy and PyTorch use, so their
    pointers and streams are valid here."""

    def __init__(self, profiles, kernel_name, kernel_source, tune_params, grid_div,
                 block_size_names, compiler_options, defines, smem_size, default, user_key,
                 device, cache_dir):
        source, kernel_file = _source_of(kernel_source)
        if not isinstance(tune_params, dict) or not tune_params:
            raise InvalidArgumentError("tune_params must be a non-empty dict of parameter name "
                                       "to list of values")
        if default is None:
            default = {k: list(v)[0] for k, v in tune_params.items()}
        self._l = None
        self._dir = tempfile.TemporaryDirectory(prefix="cutune-launch-")
        if kernel_file is None:
            kernel_file = os.path.join(self._dir.name, "kernel.cu")
            with open(kernel_file, "w") as f:
                f.write(source)
        spec = spec_mod.build(kernel_name, "kernel.cu", source, [1, 1, 1], [], tune_params,
                              grid_div=grid_div, block_size_names=block_size_names,
                              compiler_options=compiler_options, defines=defines,
                              smem_size=smem_size, default=default)
        spec_path = os.path.join(self._dir.name, "spec.json")
        with open(spec_path, "w") as f:
            json.dump(spec, f)
        if not profiles._store:
            raise InvalidArgumentError(f"{profiles.path} is closed")
        self._profiles = profiles  # the store outlives the launcher
        profiles._launchers.add(self)
        opts = n.LauncherOptions(device=device, user_key=n.cstr(user_key),
                                 cache_dir=n.cstr(cache_dir) if cache_dir else None)
        self._l = ctypes.c_void_p()
        n.call("cutune_launcher_new", ctypes.byref(self._l), profiles._store,
               n.cstr(spec_path), n.cstr(kernel_file), ctypes.byref(opts))
        self._local = threading.local()  # launch buffers, one set per calling thread

    def close(self):
        if getattr(self, "_l", None):
            n.lib.cutune_launcher_free(self._l)
            self._l = None
        if getattr(self, "_dir", None):
            self._dir.cleanup()
            self._dir = None

    def __del__(self):
        self.close()

    def select(self, problem_size):
        """What a launch at this problem size would run."""
        if not self._l:
            raise InvalidArgumentError("this launcher is closed (or its Profiles is)")
        sel = n.Selection()
        n.call("cutune_launcher_select", self._l, _problem_ref(problem_size), ctypes.byref(sel))
        return Selection.of(sel)

    def __call__(self, problem_size, *args, stream=None):
        if not self._l:
            raise InvalidArgumentError("this launcher is closed (or its Profiles is)")
        # the hot path: each argument becomes one 64-bit slot (a device pointer, or a
        # scalar's bytes), in buffers kept per thread; problem sizes are converted once
        local = self._local
        buffers = getattr(local, "buffers", None)
        if buffers is None or len(buffers[0]) != max(1, len(args)):
            buffers = local.buffers = _slots(len(args))
            local.info = n.LaunchInfo()
            local.info_ref = ctypes.byref(local.info)
        slots, params = buffers
        framework = None
        for i, a in enumerate(args):
            slots[i], kind = _slot(a, i)
            framework = framework or kind
        status = _LAUNCH(self._l, _problem_ref(problem_size), params,
                         _stream_handle(stream, framework), local.info_ref)
        if status:
            raise errors.from_status(status, n.text(n.lib.cutune_last_error()))
        return local.info  # what ran: selection, configuration, grid and block


def _slots(count):
    """A thread's launch buffers: a slot per argument, and the pointer to each slot."""
    slots = (ctypes.c_uint64 * max(1, count))()
    base = ctypes.addressof(slots)
    params = (ctypes.c_void_p * max(1, count))(*[base + 8 * i for i in range(max(1, count))])
    return slots, params


_SCALARS = {}  # (type, value) -> its slot: the bytes of the value, little-endian
_DEVICE_ARRAYS = {}  # type -> how to read its device pointer, once seen


def _slot(a, i):
    """Argument i as a launch slot, and the framework it belongs to (None: a scalar)."""
    read = _DEVICE_ARRAYS.get(type(a))
    if read is not None:
        return read(a, i)
    try:
        return _SCALARS[type(a), a], None
    except (KeyError, TypeError):
        pass
    module = type(a).__module__
    if module.startswith("cupy") and hasattr(a, "data"):
        read = _DEVICE_ARRAYS[type(a)] = _cupy_pointer
        return read(a, i)
    if module.startswith("torch") and hasattr(a, "data_ptr"):
        read = _DEVICE_ARRAYS[type(a)] = _torch_pointer
        return read(a, i)
    host, scalar = args_mod.to_host(a, f"argument {i}")
    if not scalar:
        raise InvalidArgumentError(f"argument {i} is a NumPy array on the host; launches take "
                                   "CuPy arrays or PyTorch tensors")
    value = int.from_bytes(host.tobytes(), "little")
    if len(_SCALARS) < 4096:
        _SCALARS[type(a), a] = value
    return value, None


def _cupy_pointer(a, i):
    return a.data.ptr, "cupy"


def _torch_pointer(a, i):
    if not a.is_cuda:
        raise InvalidArgumentError(f"argument {i} is a PyTorch tensor on the CPU; launches "
                                   "take tensors on the GPU")
    return a.data_ptr(), "torch"


def _stream_handle(stream, framework):
    if stream is not None:
        for attr in ("ptr", "cuda_stream"):  # CuPy's Stream, PyTorch's Stream
            if hasattr(stream, attr):
                return int(getattr(stream, attr))
        return int(stream)
    if framework == "torch":
        return sys.modules["torch"].cuda.current_stream().cuda_stream
    if framework == "cupy":
        return sys.modules["cupy"].cuda.get_current_stream().ptr
    return None
