"""The ctypes structs of cutune/_native.py against cutune.h: every field's offset and every
struct's size, as the C compiler lays them out."""
import ctypes
import os
import shutil
import subprocess

import pytest

from conftest import repo_path
from cutune import _native


def test_mirrors_match_the_header(tmp_path):
    cc = shutil.which(os.environ.get("CC", "cc")) or shutil.which("gcc")
    if not cc:
        pytest.fail("a C compiler is needed to check the struct layouts")
    lines = ["#include <stddef.h>", "#include <stdio.h>", '#include "cutune.h"',
             "int main(void) {"]
    expected = []
    for cname, cls in _native.MIRRORS.items():
        lines.append(f'printf("%zu\\n", sizeof({cname}));')
        expected.append((f"sizeof({cname})", ctypes.sizeof(cls)))
        for field, _ in cls._fields_:
            lines.append(f'printf("%zu\\n", offsetof({cname}, {field}));')
            expected.append((f"{cname}.{field}", getattr(cls, field).offset))
    lines.append("return 0; }")
    src = tmp_path / "probe.c"
    src.write_text("\n".join(lines))
    exe = tmp_path / "probe"
    subprocess.run([cc, "-std=c11", "-I", repo_path("include"), str(src), "-o", str(exe)],
                   check=True)
    got = subprocess.run([str(exe)], check=True, capture_output=True, text=True).stdout.split()
    assert len(got) == len(expected)
    wrong = [f"{what}: C {c}, ctypes {py}" for (what, py), c in zip(expected, map(int, got))
             if py != c]
    assert not wrong, "\n".join(wrong)


def test_every_status_has_its_class():
    for status in range(1, 19):
        name = _native.text(_native.lib.cutune_strerror(status))
        assert name and name != "unknown status"
        assert status in __import__("cutune").errors.BY_STATUS
