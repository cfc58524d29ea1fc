#!/bin/sh
# test_header.sh — the public header compiles alone, warning-free, as C99, C11 and C++17 (an
# application may be any of them), and its C++ view declares the functions extern "C".
# usage: test_header.sh INCLUDE_DIR CC [CXX]   (without a C++ compiler the C++ part is skipped)
set -u
inc=$1 cc=$2 cxx=${3:-}
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
fail=0
printf '#include <cutune.h>\nint main(void) { return cutune_strerror(CUTUNE_OK) == 0; }\n' >"$tmp/c.c"
for std in c99 c11; do
    if "$cc" -std=$std -pedantic -Wall -Wextra -Wshadow -Wstrict-prototypes -Werror \
           -I"$inc" -fsyntax-only "$tmp/c.c"; then
        echo "C ($std): clean"
    else
        echo "C ($std): warnings or errors above"; fail=1
    fi
done
if [ -n "$cxx" ]; then
    # extern "C": the declaration's linkage must be C, or linking against libcutune fails
    printf '#include <cutune.h>\n#include <type_traits>\nstatic_assert(std::is_same<decltype(&cutune_strerror), const char *(*)(int)>::value, "");\nextern "C" const char *cutune_strerror(int status);\nint main() { cutune_selection s{}; return s.rule == CUTUNE_SELECT_EXACT ? 0 : 1; }\n' >"$tmp/cxx.cpp"
    if "$cxx" -std=c++17 -pedantic -Wall -Wextra -Wshadow -Werror -I"$inc" -fsyntax-only \
           "$tmp/cxx.cpp"; then
        echo "C++17: clean"
    else
        echo "C++17: warnings or errors above"; fail=1
    fi
else
    echo "C++17: skipped, no C++ compiler found"
fi
exit $fail
