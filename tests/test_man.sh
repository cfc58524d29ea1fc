#!/bin/sh
# test_man.sh — the committed man page (man/cutune.1) is what scripts/gen_man.sh makes from
# this CLI's --help texts, and groff formats it without warnings.
# usage: test_man.sh path/to/cutune SOURCE_DIR
set -u
cli=$1 src=$2
tmp=$(mktemp) || exit 1
trap 'rm -f "$tmp"' EXIT
sh "$src/scripts/gen_man.sh" "$cli" >"$tmp" || { echo "gen_man.sh failed"; exit 1; }
if ! diff -u "$src/man/cutune.1" "$tmp"; then
    echo "man/cutune.1 is out of date: sh scripts/gen_man.sh build/cutune man/cutune.1"
    exit 1
fi
if command -v groff >/dev/null 2>&1; then
    warnings=$(groff -man -ww -z "$src/man/cutune.1" 2>&1)
    [ -z "$warnings" ] || { echo "groff: $warnings"; exit 1; }
fi
echo "man/cutune.1 is up to date ($(wc -l <"$src/man/cutune.1") lines)"
