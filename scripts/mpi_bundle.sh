#!/bin/sh
# mpi_bundle.sh — packs this machine's Open MPI (Debian's 4.1) into one folder that runs where
# no Open MPI is installed (the lent GPU machine): mpirun/orted, libmpi and every library it
# and its components load (glibc apart), the components for one host or several over TCP
# (shared memory and TCP; no InfiniBand, UCX or libfabric), PMIx's plugins, help texts, and
# settings. bin/mpirun is a script that points Open MPI (OPAL_PREFIX and the other OPAL_*
# directories), PMIx (PMIX_*) and the loader (LD_LIBRARY_PATH) at the folder, wherever it is.
#
# usage: scripts/mpi_bundle.sh DIR                   pack into DIR (replaced)
#        scripts/mpi_bundle.sh --check DIR BUILD     run DIR/bin/mpirun -np 2 BUILD/cutune-mpi
#                                                    with this machine's Open MPI hidden
# where it runs:  DIR/bin/mpirun -np 2 build/cutune-mpi tune kernels/sgemm.cu --spec ...
set -eu
ARCH_LIB=/usr/lib/x86_64-linux-gnu
OMPI_LIB=$ARCH_LIB/openmpi/lib
PKGLIB=$OMPI_LIB/openmpi3
PMIX=$ARCH_LIB/pmix2
# components that need fabric libraries a GPU node without InfiniBand lacks
SKIP='ucx|ofi|psm|psm2|openib|verbs|monitoring|java|cxx|usempi|mpifh|oshmem|spml|sshmem|memheap|scoll|atomic_ucx'

# the libraries of these files that are not glibc's, one path a line
libs_of() {
    for f in "$@"; do ldd "$f" 2>/dev/null; done |
        awk '$2 == "=>" && $3 ~ /^\// {print $3}' |
        grep -vE '/(libc|libm|libpthread|libdl|librt|libresolv|libutil|ld-linux[^/]*)\.so' |
        sort -u
}

pack() {
    out=$1
    [ -x /usr/bin/orterun ] || { echo "mpi_bundle.sh: no Open MPI here (scripts/deps.sh installs it)" >&2; exit 1; }
    rm -rf "$out"
    mkdir -p "$out/bin" "$out/lib/openmpi" "$out/lib/pmix" "$out/share/openmpi" \
        "$out/share/pmix" "$out/etc"
    cp /usr/bin/orterun /usr/bin/orted "$out/bin/"
    for c in "$PKGLIB"/*.so; do
        echo "${c##*/}" | grep -qE "_($SKIP)" || cp -L "$c" "$out/lib/openmpi/"
    done
    cp -L "$PMIX"/lib/pmix/*.so "$out/lib/pmix/"
    cp -r /usr/share/openmpi/. "$out/share/openmpi/"
    cp -r "$PMIX"/share/pmix/. "$out/share/pmix/"
    # libmpi itself, and everything the programs and components load (ldd lists it all)
    for l in $(libs_of "$OMPI_LIB/libmpi.so" "$out"/bin/orte* "$out"/lib/openmpi/*.so \
        "$out"/lib/pmix/*.so); do
        cp -L "$l" "$out/lib/"
    done
    cat >"$out/etc/openmpi-mca-params.conf" <<'EOF'
# one host over shared memory, several over TCP; containers often forbid cross-memory attach
pml = ob1
btl = self,vader,tcp
btl_vader_single_copy_mechanism = none
EOF
    cat >"$out/bin/mpirun" <<'EOF'
#!/bin/sh
# mpirun from this folder: Open MPI, PMIx and the loader look here, wherever it was moved
here=$(cd "$(dirname "$0")/.." && pwd)
export OPAL_PREFIX="$here" OPAL_EXEC_PREFIX="$here" OPAL_BINDIR="$here/bin" \
    OPAL_LIBDIR="$here/lib" OPAL_PKGLIBDIR="$here/lib/openmpi" OPAL_DATAROOTDIR="$here/share" \
    OPAL_DATADIR="$here/share" OPAL_PKGDATADIR="$here/share/openmpi" \
    OPAL_SYSCONFDIR="$here/etc" OPAL_INCLUDEDIR="$here/include" \
    PMIX_PREFIX="$here" PMIX_EXEC_PREFIX="$here" PMIX_LIBDIR="$here/lib" \
    PMIX_PKGLIBDIR="$here/lib/pmix" PMIX_DATADIR="$here/share" PMIX_PKGDATADIR="$here/share/pmix" \
    PMIX_MCA_mca_base_component_path="$here/lib/pmix" \
    OMPI_MCA_mca_base_component_path="$here/lib/openmpi" \
    LD_LIBRARY_PATH="$here/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" PATH="$here/bin:$PATH"
if [ "$(id -u)" -eq 0 ]; then
    export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fi
exec "$here/bin/orterun" "$@"
EOF
    chmod +x "$out/bin/mpirun"
    ln -s mpirun "$out/bin/mpiexec"
    echo "mpi_bundle.sh: $out ($(du -sh "$out" | cut -f1)): run $out/bin/mpirun -np N .../cutune-mpi tune ..."
}

# Runs the bundle in a mount namespace where this machine's Open MPI, PMIx and the libraries
# the bundle carries are covered over: it must not need any of them.
check() {
    out=$(cd "$1" && pwd) build=$(cd "$2" && pwd) src=$(cd "$(dirname "$0")/.." && pwd)
    hide="/usr/bin/orterun /usr/bin/orted /usr/bin/mpirun.openmpi"
    for l in "$out"/lib/*.so*; do
        for d in $ARCH_LIB /lib/x86_64-linux-gnu; do
            [ -e "$d/${l##*/}" ] && hide="$hide $d/${l##*/}"
        done
    done
    empty=$(mktemp -d)
    trap 'rm -rf "$empty"' EXIT
    unshare --mount --propagation private sh -eu -c '
        empty='"$empty"'
        for d in '"$OMPI_LIB $PMIX"' /usr/share/openmpi /etc/openmpi; do
            mount --bind "$empty" "$d"
        done
        for f in '"$hide"'; do [ ! -e "$f" ] || mount --bind /dev/null "$f"; done
        if env -u LD_LIBRARY_PATH '"$build"'/cutune-mpi --version >/dev/null 2>&1 ||
            /usr/bin/mpirun --version >/dev/null 2>&1; then
            echo "mpi_bundle.sh: the system Open MPI is still there" >&2
            exit 1
        fi
        '"$out"'/bin/mpirun --oversubscribe --bind-to none -np 2 '"$build"'/cutune-mpi tune \
            --sim '"$src"'/data/spaces/cutune/sum_H200.json.gz --budget 40 --sim-delay-ms 10 \
            --json > "$empty/out" 2> "$empty/err" || { cat "$empty/err" >&2; exit 1; }
        grep -q "\"ranks\": 2" "$empty/out" && grep -q "\"evaluations\": 40" "$empty/out" ||
            { cat "$empty/out" "$empty/err" >&2; exit 1; }
        [ -s "$empty/err" ] && { echo "(standard error)"; cat "$empty/err"; }
        echo "mpi_bundle.sh: 2 ranks ran from the bundle with the system Open MPI hidden"
    '
}

case "${1:-}" in
--check) check "$2" "$3" ;;
-h | --help | "") sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//' ;;
*) pack "$1" ;;
esac
