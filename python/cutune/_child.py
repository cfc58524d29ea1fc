"""The process a GPU tuning session runs in: `python -m cutune._child JOBDIR` reads the job
tune_kernel wrote (JOBDIR/job.pickle) and leaves (status, results) in JOBDIR/result.pickle.

A process of its own because libcutune forks its worker, which owns the GPU, and a process
forked after CUDA started (CuPy or PyTorch arrays made before tune_kernel) cannot use CUDA;
started fresh, this one has touched nothing."""
import ctypes
import os
import pickle
import sys

from . import _native as n
from . import errors, session

VERIFY_NONE, VERIFY_ANSWERS = 2, 3


def tune(job, jobdir):
    opts = n.SessionOptions(device=int(job.get("device", 0)),
                            iterations=int(job.get("iterations", 7)),
                            precision=float(job.get("precision", 0.0)),
                            confirm=int(job.get("confirm", 0)))
    s = ctypes.c_void_p()
    store = None
    try:
        n.call("cutune_session_new", ctypes.byref(s), n.cstr(job["spec"]),
               n.cstr(job["kernel_file"]), ctypes.byref(opts))
        for name, array in job["arguments"]:
            n.call("cutune_session_set_argument", s, n.cstr(name), array.ctypes.data,
                   array.nbytes)
        for name, array in job["answers"]:
            n.call("cutune_session_set_reference", s, n.cstr(name), array.ctypes.data,
                   array.nbytes)
        n.call("cutune_session_set_verify", s, VERIFY_ANSWERS if job["answers"] else VERIFY_NONE)
        if job["answers"]:
            n.call("cutune_session_set_tolerance", s, None, float(job["atol"]), float("nan"))
        store = session.open_store(job)
        results, facts = session.tune(s, store, job, jobdir)
        facts.update(session.device_facts(s))
        return results, facts
    finally:
        n.lib.cutune_session_free(s)
        if store:
            n.lib.cutune_store_free(store)


def main(jobdir):
    with open(os.path.join(jobdir, "job.pickle"), "rb") as f:
        job = pickle.load(f)
    try:
        payload = ("ok", tune(job, jobdir))
    except errors.Error as e:
        payload = ("error", e)
    with open(os.path.join(jobdir, "result.pickle"), "wb") as f:
        pickle.dump(payload, f)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
