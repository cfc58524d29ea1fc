#!/bin/sh
# test_exports.sh — ABI hygiene of the shared library: its soname is versioned, it exports
# only cutune_* functions, each of them declared in the public header, and every function
# the header declares is exported.
# usage: test_exports.sh libcutune.so include/cutune.h SONAME
set -u
lib=$1 header=$2 soname=$3
fail=0
got=$(readelf -d "$lib" | sed -n 's/.*Library soname: \[\(.*\)\]/\1/p')
[ "$got" = "$soname" ] || { echo "soname is '$got', not '$soname'"; fail=1; }
# defined dynamic symbols, without the version node (type A) and the @@VERSION suffix
exports=$(nm -D --defined-only "$lib" | awk '$2 != "A" { sub(/@.*/, "", $3); print $3 }')
[ -n "$exports" ] || { echo "nm found no exports in $lib"; exit 1; }
for s in $exports; do
    case $s in
    cutune_*) grep -q "\\b$s(" "$header" || { echo "exported, not in the header: $s"; fail=1; } ;;
    *) echo "exported without the cutune_ prefix: $s"; fail=1 ;;
    esac
done
# functions the header declares (a name followed by '(' at a declaration's start or after
# its return type), each of which must be exported
declared=$(grep -oE '^[a-z_ ]*[ *]cutune_[a-z0-9_]+\(' "$header" | sed -E 's/.*(cutune_[a-z0-9_]+)\($/\1/')
for s in $declared; do
    echo "$exports" | grep -qx "$s" || { echo "declared in the header, not exported: $s"; fail=1; }
done
[ $fail -eq 0 ] && echo "$(echo "$exports" | wc -l) exports, all cutune_ and declared; soname $soname"
exit $fail
