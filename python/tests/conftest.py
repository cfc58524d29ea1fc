"""What the tests share: the repository's files, the CLI to compare with, and whether a GPU
is here."""
import ctypes
import os
import shutil

import pytest

import cutune
from cutune import _native

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def repo_path(*parts):
    return os.path.join(REPO, *parts)


@pytest.fixture(scope="session")
def cli():
    path = os.environ.get("CUTUNE_CLI") or repo_path("build", "cutune")
    if not os.path.exists(path):
        path = shutil.which("cutune")
    if not path:
        pytest.fail("the cutune CLI is needed to compare with: set CUTUNE_CLI")
    return path


def gpu_missing():
    """Why there is no GPU to run on, or None."""
    info = _native.DeviceInfo()
    status = _native.lib.cutune_device_query(0, ctypes.byref(info))
    return _native.text(_native.lib.cutune_last_error()) if status else None


def gpu_name():
    """The name of GPU 0, or None."""
    info = _native.DeviceInfo()
    if _native.lib.cutune_device_query(0, ctypes.byref(info)):
        return None
    return _native.text(info.name)


needs_gpu = pytest.mark.skipif(gpu_missing() is not None,
                               reason=f"no GPU: {gpu_missing()}")
__all__ = ["cutune", "repo_path", "needs_gpu"]
