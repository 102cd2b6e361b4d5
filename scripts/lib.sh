# Shared by run.sh and test.sh: installs what a fresh Debian 12 machine lacks, and builds.
# Sourced, not run.

HOTLINE_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
HOTLINE_BUILD="${HOTLINE_BUILD:-$HOTLINE_ROOT/build}"

HOTLINE_PACKAGES=(
  build-essential cmake ninja-build pkg-config ccache
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  librocksdb-dev libhiredis-dev libabsl-dev libgoogle-glog-dev libssl-dev
  libgtest-dev libgmock-dev libbenchmark-dev prometheus-cpp-dev
  libicu-dev zlib1g-dev nlohmann-json3-dev openssl
  redis-server
  python3 python3-grpcio python3-grpc-tools python3-protobuf python3-jieba
  libcpp-httplib-dev libsodium-dev libxlsxwriter-dev
  chromium chromium-driver python3-selenium fonts-wqy-microhei python3-cryptography
  clang-14 clang-format-14
)

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

install_dependencies() {
  local missing=()
  local p
  for p in "${HOTLINE_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if ((${#missing[@]} == 0)); then return 0; fi
  log "installing ${missing[*]}"
  local sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  "${sudo[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" >/dev/null
}

# axe-core, the accessibility checker the portal's browser test runs offline in the page,
# from the npm registry into a cache of ours (Debian has no package of it).
AXE_CORE_VERSION=4.14.1
install_axe_core() {
  local cache="${HOTLINE_NPM_CACHE:-$HOME/.cache/hotline-npm}"
  export HOTLINE_AXE_CORE="$cache/node_modules/axe-core/axe.min.js"
  if [ -f "$HOTLINE_AXE_CORE" ] &&
    grep -q "\"version\": \"$AXE_CORE_VERSION\"" "$cache/node_modules/axe-core/package.json"; then
    return 0
  fi
  if ! command -v npm >/dev/null; then
    log "installing npm"
    local sudo=()
    [ "$(id -u)" -eq 0 ] || sudo=(sudo)
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends npm >/dev/null
  fi
  log "installing axe-core $AXE_CORE_VERSION from the npm registry"
  mkdir -p "$cache"
  npm install --prefix "$cache" --no-audit --no-fund --silent "axe-core@$AXE_CORE_VERSION"
}

build_all() {
  # Two jobs at most: gRPC translation units need about 1 GiB each and CI has two cores.
  local jobs="${HOTLINE_JOBS:-2}"
  export CCACHE_DIR="${CCACHE_DIR:-$HOME/.cache/hotline-ccache}"
  # Hits across clones in other directories (CI builds a fresh clone every time).
  export CCACHE_BASEDIR="$HOTLINE_ROOT" CCACHE_NOHASHDIR=1
  if [ ! -f "$HOTLINE_BUILD/build.ninja" ]; then
    log "configuring $HOTLINE_BUILD"
    cmake -S "$HOTLINE_ROOT" -B "$HOTLINE_BUILD" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  fi
  log "building (-j$jobs)"
  cmake --build "$HOTLINE_BUILD" -j "$jobs"
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# wait_for_port PORT SECONDS: polls until something accepts connections on 127.0.0.1:PORT.
wait_for_port() {
  local port="$1" deadline=$((SECONDS + $2))
  until (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
    ((SECONDS < deadline)) || return 1
    sleep 0.1
  done
}
