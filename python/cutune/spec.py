"""The T1 spec a tune_kernel call describes: Kernel Tuner's arguments in the autotuning
community's format, which libcutune loads like any other spec (`cutune tune --spec` runs
the same file)."""
import keyword
import math
import numbers
import re

from .arguments import t1_type
from .errors import InvalidArgumentError, NotSupportedError

KT_BLOCK_NAMES = ("block_size_x", "block_size_y", "block_size_z")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def kernel_parameter_names(source, kernel_name, count):
    """The kernel's parameter names from its signature in the source, for messages; argN
    where the signature cannot be read (templates, macros) or its count differs."""
    fallback = [f"arg{i}" for i in range(count)]
    m = re.search(r"__global__[^;{]*?\b" + re.escape(kernel_name) + r"\s*\(([^)]*)\)", source,
                  re.S)
    if not m:
        return fallback
    params = [p.strip() for p in m.group(1).split(",") if p.strip()]
    names = []
    for p in params:
        found = _IDENTIFIER.findall(re.sub(r"\[[^\]]*\]", "", p))
        names.append(found[-1] if found else "")
    ok = (len(names) == count and len(set(names)) == count and
          all(n and not keyword.iskeyword(n) for n in names))
    return names if ok else fallback


def _param_values(name, values):
    """A tune_params entry as (T1 Type, JSON list)."""
    if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
        raise InvalidArgumentError(f"tune_params['{name}'] must be a list of values, not "
                                   f"{type(values).__name__}")
    values = list(values)
    if not values:
        raise InvalidArgumentError(f"tune_params['{name}'] is empty")
    if all(isinstance(v, (bool, numbers.Integral)) for v in values):
        return "int", [int(v) for v in values]
    if all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in values):
        out = [float(v) for v in values]
        if not all(math.isfinite(v) for v in out):
            raise InvalidArgumentError(f"tune_params['{name}'] holds a value that is not finite")
        return "float", out
    if all(isinstance(v, str) for v in values):
        return "string", values
    raise InvalidArgumentError(f"tune_params['{name}'] mixes types or holds values that are "
                               "not numbers or strings")


def _size_entry(value, what):
    if isinstance(value, bool) or not isinstance(value, (numbers.Integral, str)):
        raise InvalidArgumentError(f"{what} must be an int or a string (a parameter's name or "
                                   f"an expression), not {type(value).__name__}")
    if isinstance(value, numbers.Integral):
        if value < 1:
            raise InvalidArgumentError(f"{what} is {value}; sizes are at least 1")
        return int(value)
    return value


def _problem(problem_size):
    if callable(problem_size):
        raise NotSupportedError("problem_size as a function is not supported; give ints or "
                                "expressions over the parameters as strings")
    sizes = list(problem_size) if isinstance(problem_size, (list, tuple)) else [problem_size]
    if not 1 <= len(sizes) <= 3:
        raise InvalidArgumentError(f"problem_size has {len(sizes)} dimensions; 1 to 3 are "
                                   "possible")
    return [_size_entry(s, f"problem_size[{d}]") for d, s in enumerate(sizes)]


def _divisors(value, what):
    if value is None:
        return None
    if callable(value):
        raise NotSupportedError(f"{what} as a function is not supported; give a list of "
                                "parameter names or expressions")
    items = [value] if isinstance(value, str) else list(value)
    for v in items:
        if not isinstance(v, str):
            raise InvalidArgumentError(f"{what} must list parameter names or expressions as "
                                       f"strings, not {type(v).__name__}")
    return items


def _condition(expression, params, i):
    if callable(expression):
        raise NotSupportedError(
            "restrictions given as a Python function cannot run inside cutune's search (it runs "
            "in C, on every candidate): write each as an expression string, e.g. "
            "\"block_size_x*tile_size_x <= 1024\"")
    if not isinstance(expression, str):
        raise InvalidArgumentError(f"restrictions[{i}] is a {type(expression).__name__}, not "
                                   "an expression string")
    used = [p for p in params if re.search(r"\b" + re.escape(p) + r"\b", expression)]
    return {"Expression": expression, "Parameters": used}


def build(kernel_name, kernel_file, source, problem_size, host_args, tune_params, *,
          grid_div=(None, None, None), block_size_names=None, restrictions=None,
          outputs=(), cmem_names=None, compiler_options=None, defines=None, smem_size=None,
          default=None):
    """The spec as a dict. host_args: (array, is_scalar) per argument; outputs: indices of
    the arguments compared; cmem_names: argument index -> the __constant__ it also fills."""
    if not isinstance(kernel_name, str) or not _IDENTIFIER.fullmatch(kernel_name or ""):
        raise InvalidArgumentError(f"kernel_name {kernel_name!r} is not a C identifier")
    if not isinstance(tune_params, dict) or not tune_params:
        raise InvalidArgumentError("tune_params must be a non-empty dict of parameter name to "
                                   "list of values")
    params = []
    for name, values in tune_params.items():
        if not isinstance(name, str) or not _IDENTIFIER.fullmatch(name):
            raise InvalidArgumentError(f"tune_params key {name!r} is not a C identifier (it "
                                       "becomes a #define)")
        t, vals = _param_values(name, values)
        entry = {"Name": name, "Type": t, "Values": vals}
        if default is not None and name in default:
            entry["Default"] = default[name]
        params.append(entry)
    if isinstance(restrictions, str) or callable(restrictions):
        restrictions = [restrictions]
    conditions = [_condition(r, list(tune_params), i)
                  for i, r in enumerate(restrictions or [])]

    names = kernel_parameter_names(source, kernel_name, len(host_args))
    cmem_names = cmem_names or {}
    arguments = []
    for i, (array, scalar) in enumerate(host_args):
        name = cmem_names.get(i, names[i])
        a = {"Name": name, "Type": t1_type(array)}
        if scalar:
            a.update({"MemoryType": "Scalar", "AccessType": "ReadOnly", "FillValue": 0})
        else:
            # every array may be written: each launch gets it as it was given
            a.update({"MemoryType": "Vector", "Size": int(array.size),
                      "AccessType": "ReadWrite", "FillType": "Zeros"})
            if i in outputs:
                a["Output"] = 1
        if i in cmem_names:
            a["MemType"] = "Constant"
        arguments.append(a)
    if len({a["Name"] for a in arguments}) != len(arguments):
        raise InvalidArgumentError("two arguments would share a name (cmem_args names one "
                                   "after another argument's)")

    names3 = list(block_size_names or KT_BLOCK_NAMES)
    if not 1 <= len(names3) <= 3 or not all(isinstance(n, str) for n in names3):
        raise InvalidArgumentError("block_size_names must list 1 to 3 parameter names")
    ks = {"Language": "CUDA", "KernelName": kernel_name, "KernelFile": kernel_file,
          "ProblemSize": _problem(problem_size), "Arguments": arguments}
    # the block: Kernel Tuner's names for its sizes, 256 threads when x is not tuned, 1 for
    # an axis not tuned; without grid_div, cutune divides the problem by the block as
    # Kernel Tuner does
    if block_size_names is not None or names3[0] not in tune_params:
        ks["LocalSize"] = {axis: (names3[d] if d < len(names3) and names3[d] in tune_params
                                  else 256 if d == 0 else 1)
                           for d, axis in enumerate("XYZ")}
    for d, axis in enumerate("XYZ"):
        divs = _divisors(grid_div[d], f"grid_div_{axis.lower()}")
        if divs is not None:
            ks["GridDiv" + axis] = divs
    options = list(compiler_options or [])
    for name, value in (defines or {}).items():
        if callable(value):
            raise NotSupportedError(f"defines['{name}'] is a function; cutune takes constant "
                                    "defines (tune_params give the per-configuration ones)")
        if not isinstance(name, str) or not _IDENTIFIER.fullmatch(name):
            raise InvalidArgumentError(f"defines key {name!r} is not a macro name")
        options.append(f"-D{name}={value}")
    if not all(isinstance(o, str) for o in options):
        raise InvalidArgumentError("compiler_options must be a list of strings")
    if options:
        ks["CompilerOptions"] = options
    if smem_size is not None:
        ks["SharedMemory"] = smem_size
    return {"General": {"BenchmarkName": kernel_name, "Note": "written by cutune's Python "
                        "package from a tune_kernel call"},
            "ConfigurationSpace": {"TuningParameters": params, "Conditions": conditions},
            "KernelSpecification": ks}
