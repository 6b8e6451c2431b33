#!/bin/sh
# Builds the native kernels (src/ml/kernels/native) into prebuilds/<platform>-<arch>/repro-kernels.node
# with the C compiler alone: no node-gyp, no download. Node's headers come from the system
# (/usr/include/node) or from next to the node binary (<prefix>/include/node); set NODE_INCLUDE to
# point elsewhere, CC to use another compiler.
# Every object is compiled with -ffp-contract=off -fno-fast-math: no FMA contraction and no reordered
# sums, which is what makes the results the wasm path's bits (see kernels.c). On x86-64 kernels.c is
# compiled three times, for the scalar, AVX2 and AVX-512 code paths, chosen at run time by CPU features.
set -eu
cd "$(dirname "$0")/.."
CC=${CC:-gcc}
SRC=src/ml/kernels/native
platform=$(node -p 'process.platform + "-" + process.arch')
OUT=${OUT:-prebuilds/$platform}
if [ -z "${NODE_INCLUDE:-}" ]; then
  prefix=$(dirname "$(dirname "$(command -v node)")")
  for dir in "$prefix/include/node" /usr/include/node /usr/local/include/node; do
    if [ -f "$dir/node_api.h" ]; then NODE_INCLUDE=$dir; break; fi
  done
fi
[ -n "${NODE_INCLUDE:-}" ] || { echo "build-native: node_api.h not found; set NODE_INCLUDE" >&2; exit 1; }
FLAGS="-O3 -std=c11 -fPIC -fvisibility=hidden -ffp-contract=off -fno-fast-math -fno-math-errno -Wall -Wextra -Wno-unused-parameter"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
case $(node -p process.arch) in
  x64)
    $CC $FLAGS -DVW=1 -DSUFFIX=scalar -c $SRC/kernels.c -o "$tmp/scalar.o"
    $CC $FLAGS -mavx2 -DVW=8 -DSUFFIX=avx2 -c $SRC/kernels.c -o "$tmp/avx2.o"
    $CC $FLAGS -mavx512f -DVW=16 -DSUFFIX=avx512 -c $SRC/kernels.c -o "$tmp/avx512.o"
    ;;
  *) # Other CPUs: the scalar path under every name; the addon reports level 0.
    for s in scalar avx2 avx512; do $CC $FLAGS -DVW=1 -DSUFFIX=$s -c $SRC/kernels.c -o "$tmp/$s.o"; done
    FLAGS="$FLAGS -DREPRO_SCALAR_ONLY"
    ;;
esac
$CC $FLAGS -I"$NODE_INCLUDE" -c $SRC/addon.c -o "$tmp/addon.o"
mkdir -p "$OUT"
# Node-API symbols are resolved against the node binary when it loads the addon.
$CC -shared -s -o "$tmp/repro-kernels.node" "$tmp"/*.o
mv "$tmp/repro-kernels.node" "$OUT/repro-kernels.node"
# No FMA may have slipped in: it would change the bits.
if command -v objdump >/dev/null 2>&1 && objdump -d "$OUT/repro-kernels.node" | grep -q 'vfmadd\|vfnmadd\|vfmsub'; then
  echo "build-native: FMA instructions in $OUT/repro-kernels.node" >&2
  exit 1
fi
echo "built $OUT/repro-kernels.node"
