#!/usr/bin/env bash
# Builds the native `gl` package (headless-gl, an optional dependency of gpu.js) so that the gpu.js backend's
# `headlessgl` mode can run here (issue #27; docs/gpu.md). pnpm installs `gl` without running its build script, and
# its prebuilt binaries come from GitHub releases, which this machine kind cannot reach, so it is built from source:
# ANGLE's shader translator, 2 to 5 minutes on 2 cores. The built `webgl.node` is kept in a per-machine cache keyed
# by the gl version and Node's ABI (like the pnpm store), so later runs only copy it.
#
# Usage: scripts/headless-gl.sh        (run from the repository, after `pnpm install`)
# Prints `headless-gl: ready` and exits 0 when `gl` loads and gives a context under xvfb-run; otherwise prints why
# and exits 1 (callers then leave the headlessgl tests to skip with their message).
set -euo pipefail
cd "$(dirname "$0")/.."

say() { echo "headless-gl: $*"; }

# Build tools, GL headers, Mesa's software rasteriser and a virtual X server (Debian package names).
need=(build-essential python3 pkg-config libxi-dev libgl-dev libgl1-mesa-dri xvfb xauth)
missing=()
for p in "${need[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if ((${#missing[@]} > 0)); then
  if command -v apt-get >/dev/null 2>&1; then
    say "installing ${missing[*]}"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null) ||
      { say "could not install ${missing[*]}"; exit 1; }
  else
    say "missing ${missing[*]} and no apt-get"; exit 1
  fi
fi

# gl as gpu.js resolves it (pnpm's virtual store).
gl_dir=$(cd packages/gpu && node -e "
const { createRequire } = require('node:module');
const r = createRequire(require.resolve('gpu.js'));
console.log(require('node:path').dirname(r.resolve('gl/package.json')));
") || { say "the gl package is not installed (an optional dependency of gpu.js)"; exit 1; }
version=$(node -p "require('$gl_dir/package.json').version")
abi=$(node -p 'process.versions.modules')
cache="${XDG_CACHE_HOME:-$HOME/.cache}/ecgnn/gl-$version-node-v$abi-$(node -p 'process.platform + "-" + process.arch')"
binary="$gl_dir/build/Release/webgl.node"

if [[ -f "$cache/webgl.node" ]]; then
  say "gl $version from the cache $cache"
  mkdir -p "$(dirname "$binary")"
  cp "$cache/webgl.node" "$binary"
elif [[ ! -f "$binary" ]]; then
  node_gyp="$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")/node_modules/node-gyp/bin/node-gyp.js"
  [[ -f "$node_gyp" ]] || { say "node-gyp not found beside npm"; exit 1; }
  say "building gl $version from source (ANGLE; about 2 to 5 minutes on 2 cores)"
  started=$SECONDS
  (cd "$gl_dir" && npm_config_nodedir="${npm_config_nodedir:-/usr}" node "$node_gyp" rebuild -j "$(nproc)" >/tmp/ecgnn-gl-build.log 2>&1) ||
    { tail -20 /tmp/ecgnn-gl-build.log; say "build failed (log: /tmp/ecgnn-gl-build.log)"; exit 1; }
  say "built in $((SECONDS - started)) s"
  mkdir -p "$cache" && cp "$binary" "$cache/webgl.node"
fi

# The check the tests rely on: gl loads and gives a context on the virtual display.
if xvfb-run -a node -e "
const gl = require('$gl_dir')(1, 1);
if (!gl) process.exit(2);
console.log('headless-gl: context', gl.getParameter(gl.VERSION));
"; then
  say ready
else
  say "gl $version does not give a context under xvfb-run"; exit 1
fi
