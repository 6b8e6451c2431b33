#!/bin/sh
# Makes an offline installation kit on a machine that reaches the npm registry: the packed repro and an
# npm cache holding every package its installation needs, for this machine's OS and CPU (sharp's native
# image library is one package per platform, so build the kit on the same kind of machine as the target).
#   scripts/offline-kit.sh [DIR]       # from the repository root; DIR defaults to ./repro-offline
# Copy DIR to the offline machine (Node 20 or newer) and install from it without the network:
#   npm install -g DIR/repro-0.1.0.tgz --offline --cache DIR/npm-cache
# About 1-2 minutes and 110 MB of cache. scripts/check-install.sh --offline builds a kit and installs from it.
set -eu
repo=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "${1:-repro-offline}"
out=$(cd "${1:-repro-offline}" && pwd)
cd "$repo"
# Packs dist/ as built (npm ci builds it) from a copy of the package's files, with npm's scripts off:
# a rebuild here would rewrite dist/ under whatever uses it meanwhile (the test suite, in CI). The copy
# gets prepack's one effect, package-lock.json as npm-shrinkwrap.json.
[ -f dist/cli/main.js ] || { echo "offline-kit: dist/ is missing: run npm ci (or npm run build) first"; exit 1; }
stage=$(mktemp -d /tmp/repro-offline-stage-XXXXXX)
for f in $(node -e 'console.log(require(process.argv[1]).files.join(" "))' "$repo/package.json"); do
  f=${f%/}
  if [ -e "$f" ]; then cp -R "$f" "$stage/"; fi
done
cp package.json "$stage/"
cp package-lock.json "$stage/npm-shrinkwrap.json"
npm pack "$stage" --ignore-scripts --pack-destination "$out" >"$out/pack.log" 2>&1 || { tail -20 "$out/pack.log"; exit 1; }
rm -rf "$stage"
tarball=$(ls "$out"/repro-*.tgz)
# An installation into a throwaway prefix fills the cache with exactly what an installation reads
# (the shrinkwrap's versions and the registry's metadata for them).
fill=$(mktemp -d /tmp/repro-offline-fill-XXXXXX)
npm install -g "$tarball" --prefix "$fill" --cache "$out/npm-cache" --no-audit --no-fund >"$out/fill.log" 2>&1 || { tail -20 "$out/fill.log"; exit 1; }
rm -rf "$fill"
echo "offline-kit: $out: $(basename "$tarball") and npm-cache/ ($(du -sh "$out/npm-cache" | cut -f1))"
echo "offline-kit: install with: npm install -g $(basename "$tarball") --offline --cache npm-cache   (in that folder)"
