"""libcutune through ctypes: the library, the structs Python passes to it, and the
prototypes of the functions it calls.

ctypes is in every Python, so the package needs nothing compiled for the interpreter it runs
in; the struct layouts below are checked against cutune.h by tests/test_layout.py, which
compiles offsetof() probes of every field with the C compiler.
"""
import ctypes
import os
from ctypes import (POINTER, Structure, c_char, c_char_p, c_double, c_int, c_int64, c_size_t,
                    c_uint, c_uint32, c_uint64, c_void_p)

from . import errors

KEY_MAX = 512        # CUTUNE_KEY_MAX
MAX_PARAMS = 256     # CUTUNE_MAX_PARAMS


def _library_path():
    """$CUTUNE_LIBRARY, else the copy installed inside the package."""
    given = os.environ.get("CUTUNE_LIBRARY")
    if given:
        return given
    here = os.path.dirname(os.path.abspath(__file__))
    return os.path.join(here, "libcutune.so.0")


def _load():
    path = _library_path()
    try:
        return ctypes.CDLL(path)
    except OSError as e:
        raise ImportError(f"cutune: cannot load libcutune ({path}): {e}. Install the package "
                          "with `pip install ./python` after `make`, or point CUTUNE_LIBRARY at "
                          "build/libcutune.so") from None


lib = _load()


class SearchOptions(Structure):
    _fields_ = [("strategy", c_char_p), ("budget", c_uint64), ("time_limit_s", c_double),
                ("seed", c_uint64), ("arch", c_void_p), ("batch", c_uint), ("in_flight", c_uint)]


class Evaluation(Structure):
    _fields_ = [("k", c_uint64), ("entry", c_size_t), ("config", POINTER(c_uint32)),
                ("time_ms", c_double), ("failure", c_char_p), ("best_ms", c_double),
                ("suggest_s", c_double), ("pruned", c_int), ("objective", c_double),
                ("best_objective", c_double), ("best_entry", c_size_t)]


class SearchResult(Structure):
    _fields_ = [("evaluations", c_uint64), ("pruned", c_uint64), ("pruned_cost_s", c_double),
                ("best_ms", c_double), ("best_entry", c_size_t), ("stop", c_int),
                ("seconds", c_double)]


class SessionOptions(Structure):
    _fields_ = [("device", c_int), ("iterations", c_int), ("warmups", c_int),
                ("flush_l2", c_int), ("timeout_s", c_double), ("cache_dir", c_char_p),
                ("compile_threads", c_int), ("problem", c_int64 * 3), ("precision", c_double),
                ("confirm", c_int), ("compile_in_threads", c_int)]


class SessionStats(Structure):
    _fields_ = [(name, c_uint64) for name in (
                    "compiled", "from_cache", "compile_failed", "pruned_after_compile",
                    "measured", "runtime_failed", "verification_failed", "timeouts")] + \
               [("compile_s", c_double), ("run_s", c_double), ("pruned_saved_s", c_double),
                ("restored", c_uint64), ("warm_start", c_uint64),
                ("warm_start_problem", c_int64 * 3), ("timed_launches", c_uint64),
                ("raced", c_uint64), ("raced_saved", c_uint64), ("throttled", c_uint64),
                ("throttle_retried", c_uint64), ("compile_waits", c_uint64),
                ("compile_wait_s", c_double), ("compile_helpers_lost", c_uint64)]


class SessionResult(Structure):
    _fields_ = [("search", SearchResult), ("default_ms", c_double),
                ("default_entry", c_size_t), ("best_median_ms", c_double),
                ("best_std_ms", c_double), ("speedup", c_double), ("best_regs", c_int),
                ("stats", SessionStats), ("seconds", c_double), ("confirmed", c_uint32),
                ("confirmed_ms", c_double), ("confirmed_lo_ms", c_double),
                ("confirmed_hi_ms", c_double), ("search_best_entry", c_size_t),
                ("best_lo_ms", c_double), ("best_hi_ms", c_double)]


class DeviceInfo(Structure):
    _fields_ = [("name", c_char * 256), ("ordinal", c_int), ("cc_major", c_int),
                ("cc_minor", c_int), ("sm_count", c_int), ("total_memory", c_uint64),
                ("l2_cache_bytes", c_int), ("regs_per_sm", c_int), ("regs_per_block", c_int),
                ("smem_per_sm", c_int), ("smem_per_block", c_int),
                ("smem_per_block_optin", c_int), ("smem_reserved_per_block", c_int),
                ("max_threads_per_sm", c_int), ("max_threads_per_block", c_int),
                ("max_blocks_per_sm", c_int), ("warp_size", c_int), ("sm_clock_khz", c_int),
                ("mem_clock_khz", c_int), ("mem_bus_width_bits", c_int),
                ("theoretical_bandwidth_gbs", c_double), ("driver_version", c_int),
                ("runtime_version", c_int), ("pci_bus_id", c_char * 32)]


class KernelId(Structure):
    _fields_ = [("name", c_char_p), ("source_hash", c_char_p), ("user_key", c_char_p)]


class Selection(Structure):
    _fields_ = [("rule", c_int), ("profile", c_int64), ("time_ms", c_double),
                ("problem", c_int64 * 3), ("params", c_char * KEY_MAX),
                ("config", c_char * KEY_MAX)]


class Profile(Structure):
    _fields_ = [("id", c_int64), ("device", c_char_p), ("cc_major", c_int),
                ("cc_minor", c_int), ("sm_count", c_int), ("driver_version", c_int),
                ("runtime_version", c_int), ("kernel", c_char_p), ("source_hash", c_char_p),
                ("user_key", c_char_p), ("problem", c_int64 * 3), ("params", c_char_p),
                ("config", c_char_p), ("time_ms", c_double), ("median_ms", c_double),
                ("std_ms", c_double), ("strategy", c_char_p), ("budget", c_uint64),
                ("evaluations", c_uint64), ("session", c_int64), ("updated", c_double),
                ("median_lo_ms", c_double), ("median_hi_ms", c_double)]


class LauncherOptions(Structure):
    _fields_ = [("device", c_int), ("user_key", c_char_p), ("cache_dir", c_char_p),
                ("online", c_int), ("cutune_path", c_char_p), ("online_args", c_char_p)]


class LaunchInfo(Structure):
    _fields_ = [("selection", Selection), ("fell_back", c_int), ("config", c_char * 512),
                ("grid", c_uint * 3), ("block", c_uint * 3), ("dynamic_smem", c_size_t),
                ("compiled", c_int), ("tuning", c_int), ("regs", c_int),
                ("static_smem", c_size_t)]


# the structs and the C names they mirror, for the layout test
MIRRORS = {"cutune_search_options": SearchOptions, "cutune_evaluation": Evaluation,
           "cutune_search_result": SearchResult, "cutune_session_options": SessionOptions,
           "cutune_session_stats": SessionStats, "cutune_session_result": SessionResult,
           "cutune_device_info": DeviceInfo, "cutune_kernel_id": KernelId,
           "cutune_selection": Selection, "cutune_profile": Profile,
           "cutune_launcher_options": LauncherOptions, "cutune_launch_info": LaunchInfo}

EVALUATION_FN = ctypes.CFUNCTYPE(c_int, POINTER(Evaluation), c_void_p)
PROFILE_FN = ctypes.CFUNCTYPE(c_int, POINTER(Profile), c_void_p)

_P = c_void_p  # every handle is opaque
_STATUS = [
    ("cutune_space_load_t1", [POINTER(_P), c_char_p]),
    ("cutune_space_count", [_P, POINTER(c_uint64)]),
    ("cutune_cache_load", [POINTER(_P), c_char_p, c_char_p]),
    ("cutune_space_parse_key", [_P, c_char_p, POINTER(c_uint32)]),
    ("cutune_space_get_default", [_P, POINTER(c_uint32)]),
    ("cutune_space_format_value", [_P, c_size_t, c_size_t, c_char_p, c_size_t]),
    ("cutune_cache_find", [_P, POINTER(c_uint32), POINTER(c_size_t)]),
    ("cutune_strategy_lookup", [c_char_p, POINTER(c_char_p)]),
    ("cutune_baseline_new", [_P, POINTER(_P)]),
    ("cutune_score", [_P, POINTER(c_double), c_size_t, POINTER(c_double)]),
    ("cutune_device_query", [c_int, POINTER(DeviceInfo)]),
    ("cutune_store_open", [POINTER(_P), c_char_p, c_int]),
    ("cutune_store_list", [_P, PROFILE_FN, c_void_p]),
    ("cutune_select", [_P, POINTER(DeviceInfo), POINTER(KernelId), POINTER(c_int64 * 3),
                       POINTER(Selection)]),
    ("cutune_launcher_new", [POINTER(_P), _P, c_char_p, c_char_p, POINTER(LauncherOptions)]),
    ("cutune_launcher_set_constant", [_P, c_char_p, c_void_p, c_size_t]),
    ("cutune_launch", [_P, POINTER(c_int64 * 3), POINTER(c_void_p), c_void_p,
                       POINTER(LaunchInfo)]),
    ("cutune_launcher_select", [_P, POINTER(c_int64 * 3), POINTER(Selection)]),
    ("cutune_session_new", [POINTER(_P), c_char_p, c_char_p, POINTER(SessionOptions)]),
    ("cutune_session_new_cache", [POINTER(_P), _P, c_double]),
    ("cutune_session_run", [_P, POINTER(SearchOptions), EVALUATION_FN, c_void_p,
                            POINTER(SessionResult)]),
    ("cutune_session_set_store", [_P, _P, c_char_p, c_int]),
    ("cutune_session_set_argument", [_P, c_char_p, c_void_p, c_size_t]),
    ("cutune_session_set_reference", [_P, c_char_p, c_void_p, c_size_t]),
    ("cutune_session_set_verify", [_P, c_int]),
    ("cutune_session_set_tolerance", [_P, c_char_p, c_double, c_double]),
    ("cutune_session_add_metric", [_P, c_char_p, c_char_p]),
    ("cutune_session_set_objective", [_P, c_char_p, c_int]),
    ("cutune_session_write_kt_cache", [_P, c_char_p]),
    ("cutune_session_write_t4", [_P, c_char_p]),
]
for _name, _args in _STATUS:
    _f = getattr(lib, _name)
    _f.argtypes = _args
    _f.restype = c_int

_OTHER = [
    ("cutune_last_error", c_char_p, []),
    ("cutune_version", c_char_p, []),
    ("cutune_strerror", c_char_p, [c_int]),
    ("cutune_strategy_names", POINTER(c_char_p), []),
    ("cutune_space_free", None, [_P]),
    ("cutune_space_num_params", c_size_t, [_P]),
    ("cutune_space_param_name", c_char_p, [_P, c_size_t]),
    ("cutune_space_param_type", c_int, [_P, c_size_t]),
    ("cutune_space_param_size", c_size_t, [_P, c_size_t]),
    ("cutune_space_num_warnings", c_size_t, [_P]),
    ("cutune_space_warning", c_char_p, [_P, c_size_t]),
    ("cutune_cache_free", None, [_P]),
    ("cutune_cache_space", _P, [_P]),
    ("cutune_cache_size", c_size_t, [_P]),
    ("cutune_cache_device", c_char_p, [_P]),
    ("cutune_cache_kernel", c_char_p, [_P]),
    ("cutune_cache_time", c_double, [_P, c_size_t, POINTER(c_char_p)]),
    ("cutune_baseline_free", None, [_P]),
    ("cutune_baseline_median", c_double, [_P]),
    ("cutune_baseline_optimum", c_double, [_P]),
    ("cutune_baseline_horizon", c_size_t, [_P]),
    ("cutune_store_free", None, [_P]),
    ("cutune_store_path", c_char_p, [_P]),
    ("cutune_select_rule_name", c_char_p, [c_int]),
    ("cutune_launcher_free", None, [_P]),
    ("cutune_session_free", None, [_P]),
    ("cutune_session_space", _P, [_P]),
    ("cutune_session_device", POINTER(DeviceInfo), [_P]),
    ("cutune_session_key", c_char_p, [_P, c_size_t, c_char_p, c_size_t]),
    ("cutune_session_failure", c_char_p, [_P, c_size_t]),
    ("cutune_source_hash", None, [c_char_p, c_size_t, c_char_p]),
]
for _name, _res, _args in _OTHER:
    _f = getattr(lib, _name)
    _f.restype = _res
    _f.argtypes = _args


def text(b):
    return b.decode("utf-8", "replace") if b is not None else None


def call(name, *args):
    """Calls libcutune's `name`; a failure raises the cutune.Error of its status, with the
    library's message."""
    status = getattr(lib, name)(*args)
    if status:
        raise errors.from_status(status, text(lib.cutune_last_error()))
    return status


def cstr(s):
    return s.encode() if isinstance(s, str) else s
