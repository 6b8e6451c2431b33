#!/bin/sh
# Installs repro the way a user does, from a packed tarball into a temporary global prefix, and uses
# it in an empty folder: repro init, validate, run, check. About 2-3 minutes (npm pack builds dist/;
# the install fetches the dependencies from the npm registry or npm's cache).
#   scripts/check-install.sh            # from the repository root
#   scripts/check-install.sh --offline  # builds an offline kit (scripts/offline-kit.sh, which needs the
#                                       # registry) and installs from it with npm --offline and its cache only
# The install and every repro command run with no compiler on PATH (gcc, cc, c++, clang, make, node-gyp
# removed): nothing is compiled at install; the native kernels come prebuilt (linux-x64) or the wasm ones run.
# Exit 0 when every step worked; the folder it used is printed and left for inspection.
set -eu
repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/repro-install-XXXXXX)
echo "check-install: working in $work"
cd "$repo"
if [ "${1:-}" = "--offline" ]; then
  sh "$repo/scripts/offline-kit.sh" "$work/kit"
  tarball=$(ls "$work"/kit/repro-*.tgz)
  set -- --offline --cache "$work/kit/npm-cache"
else
  npm pack --pack-destination "$work" >"$work/pack.log" 2>&1 || { tail -20 "$work/pack.log"; exit 1; }
  tarball=$(ls "$work"/repro-*.tgz)
  set -- --prefer-offline
fi
tar -tzf "$tarball" | grep -q '^package/npm-shrinkwrap.json$' || { echo "check-install: the tarball has no npm-shrinkwrap.json"; exit 1; }
# PATH without compilers: a folder of links to every other program on PATH.
mkdir "$work/nocc"
IFS=:
for dir in $PATH; do
  [ -d "$dir" ] || continue
  for prog in "$dir"/*; do
    name=${prog##*/}
    case $name in
      gcc*|*-gcc*|cc|c++|g++*|*-g++*|clang*|tcc|make|gmake|node-gyp) continue ;;
    esac
    [ -x "$prog" ] && [ ! -e "$work/nocc/$name" ] && ln -s "$prog" "$work/nocc/$name"
  done
done
unset IFS
PATH="$work/nocc"
export PATH
if command -v gcc >/dev/null || command -v cc >/dev/null || command -v node-gyp >/dev/null; then echo "check-install: a compiler is still on PATH"; exit 1; fi
npm install -g "$tarball" --prefix "$work/prefix" "$@" --no-audit --no-fund >"$work/install.log" 2>&1 || { tail -20 "$work/install.log"; exit 1; }
PATH="$work/prefix/bin:$PATH"
export PATH
mkdir "$work/project"
cd "$work/project"
echo "check-install: $(command -v repro) $(repro --version)"
repro init
repro validate repro.yaml
repro run repro.yaml
repro run repro.yaml | grep -q ' 0 ran, 12 from cache' || { echo "check-install: the second run was not fully cached"; exit 1; }
repro check repro.yaml
# The installed package hashes the same lockfile as this checkout, so they share cache entries.
want=$(sha256sum "$repo/package-lock.json" | cut -d' ' -f1)
got=$(node -e 'const r=require(process.argv[1]); console.log(r.steps[0].fingerprintComponents.env.lockfile)' "$PWD/results/my-experiment/latest/run.json")
[ "$want" = "$got" ] || { echo "check-install: lockfile hash $got, checkout has $want"; exit 1; }
# The prebuilt native kernels load from the installed package (where one is built for this platform).
root="$work/prefix/lib/node_modules/repro"
if [ -e "$repo/prebuilds/$(node -p 'process.platform + "-" + process.arch')/repro-kernels.node" ]; then
  path=$(node --input-type=module -e "const m = await import(process.argv[1]); console.log(m.loadNativeKernels('native').path)" "$root/dist/ml/kernels/native/index.js")
  case $path in native-*) echo "check-install: installed native kernels: $path" ;; *) echo "check-install: the installed native kernels do not load ($path)"; exit 1 ;; esac
fi
echo "check-install: ok ($work)"
