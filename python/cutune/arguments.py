"""What tune_kernel's `arguments` and `answer` become: host arrays of the element types
cutune's kernels take, with the T1 type each is declared as.

Arrays may be NumPy's, CuPy's or PyTorch's (GPU ones are copied to the host: the tuning
process owns the GPU's buffers); scalars NumPy's, or Python's int and float, which become
int32 and float32 as in Kernel Tuner."""
import numpy as np

from .errors import InvalidArgumentError

# NumPy dtype -> the T1 Type cutune declares the argument with
T1_TYPES = {np.dtype(np.float32): "float", np.dtype(np.float64): "double",
            np.dtype(np.int32): "int32", np.dtype(np.uint32): "uint32",
            np.dtype(np.int64): "int64", np.dtype(np.uint64): "uint64",
            np.dtype(np.int8): "int8", np.dtype(np.uint8): "uint8"}


def _framework_to_numpy(x):
    """A CuPy array or a PyTorch tensor as a NumPy array on the host, else None."""
    module = type(x).__module__
    if module.startswith("cupy") and hasattr(x, "get"):
        return x.get()
    if module.startswith("torch") and hasattr(x, "detach"):
        return x.detach().cpu().numpy()
    return None


def to_host(x, what):
    """(array, is_scalar): `x` as a C-contiguous little-endian NumPy array of a type cutune
    takes, or a 0-d array for a scalar."""
    if isinstance(x, bool) or isinstance(x, np.bool_):
        raise InvalidArgumentError(f"{what} is a bool: give numpy.int32(0 or 1) or another "
                                   "numeric type")
    if isinstance(x, int):
        if not -2**31 <= x < 2**31:
            raise InvalidArgumentError(f"{what} is the Python int {x}, which does not fit the "
                                       "int32 it becomes: give numpy.int64({x})")
        return np.asarray(x, dtype=np.int32), True
    if isinstance(x, float):
        return np.asarray(x, dtype=np.float32), True
    if isinstance(x, np.generic):
        array, scalar = np.asarray(x), True
    elif isinstance(x, np.ndarray):
        array, scalar = x, False
    else:
        array, scalar = _framework_to_numpy(x), False
        if array is None:
            raise InvalidArgumentError(
                f"{what} is a {type(x).__name__}: cutune takes NumPy, CuPy or PyTorch arrays "
                "and NumPy or Python scalars")
    dtype = array.dtype.newbyteorder("=") if array.dtype.byteorder == ">" else array.dtype
    if np.dtype(dtype) not in T1_TYPES:
        kinds = ", ".join(str(t) for t in T1_TYPES)
        raise InvalidArgumentError(f"{what} has dtype {array.dtype}, which cutune's kernels do "
                                   f"not take; give one of {kinds}")
    if not scalar and array.size == 0:
        raise InvalidArgumentError(f"{what} is empty")
    array = np.ascontiguousarray(array, dtype=np.dtype(dtype).newbyteorder("<"))
    return array, scalar


def t1_type(array):
    return T1_TYPES[np.dtype(array.dtype).newbyteorder("=")]


def check_answer(answer, host_args):
    """Kernel Tuner's `answer`: one entry per argument, None where it is not compared. Each
    given one must match its argument's type and size, hold no NaN, and be an array."""
    if answer is None:
        return []
    if len(answer) != len(host_args):
        raise InvalidArgumentError(f"answer has {len(answer)} entries; the kernel has "
                                   f"{len(host_args)} arguments (None where none is compared)")
    checked = []
    for i, (a, (arg, scalar)) in enumerate(zip(answer, host_args)):
        if a is None:
            checked.append(None)
            continue
        what = f"answer[{i}]"
        if scalar:
            raise InvalidArgumentError(f"{what} is given for a scalar argument; only arrays "
                                       "the kernel writes are compared")
        host, is_scalar = to_host(a, what)
        if is_scalar:
            raise InvalidArgumentError(f"{what} is a scalar; it must be an array like "
                                       f"argument {i}")
        if host.dtype != arg.dtype or host.size != arg.size:
            raise InvalidArgumentError(f"{what} is {host.size} x {host.dtype}; argument {i} is "
                                       f"{arg.size} x {arg.dtype}")
        if host.dtype.kind == "f" and not np.isfinite(host).all():
            bad = int(np.flatnonzero(~np.isfinite(host))[0])
            raise InvalidArgumentError(f"{what} holds {host.flat[bad]} at index {bad}: no "
                                       "output could ever match it")
        checked.append(host)
    return checked
