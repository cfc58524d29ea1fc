"""Puts libcutune inside the package: $CUTUNE_LIBRARY if set, else the repository's
build/libcutune.so (what `make` builds), which is built first when it is missing."""
import os
import shutil
import subprocess

from setuptools import setup
from setuptools.command.build_py import build_py
from setuptools.dist import Distribution

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)


def libcutune():
    given = os.environ.get("CUTUNE_LIBRARY")
    if given:
        return given
    built = os.path.join(REPO, "build", "libcutune.so")
    if not os.path.exists(built):
        subprocess.check_call(["make", "-C", REPO])
    return built


class BuildWithLibrary(build_py):
    def run(self):
        super().run()
        target = os.path.join(self.build_lib, "cutune", "libcutune.so.0")
        shutil.copyfile(os.path.realpath(libcutune()), target)


class BinaryDistribution(Distribution):
    def has_ext_modules(self):  # the wheel holds a shared library: it is platform-specific
        return True


setup(cmdclass={"build_py": BuildWithLibrary}, distclass=BinaryDistribution)
