#!/bin/bash
# Provisions a Valkey server with RDMA into the cache.
#
# Usage:
#   valkey.sh default CACHE_DIR PINNED_VERSION
#       Debian's source package (sid), built with BUILD_RDMA=module. When the registry
#       no longer offers PINNED_VERSION, the newest offered one is taken and said so.
#   valkey.sh source CACHE_DIR SOURCE_DIR
#       A user's source tree, copied into the cache and built there with RDMA.
# Prints the ready folder on its last line: valkey-server, valkey-rdma.so, valkey-cli,
# valkey-benchmark and a "version" file. A folder is trusted only once its "complete"
# stamp exists; it is built under a temporary name and renamed into place, so a failed
# or interrupted build leaves nothing that a later run would trust.
set -euo pipefail
mode=$1
cache_dir=$2
jobs=$(nproc 2>/dev/null || echo 2)

install_build() { # SOURCE_TREE WORK_DIR
    local tree=$1 out=$2
    mkdir -p "$out"
    for program in valkey-server valkey-cli valkey-benchmark; do
        cp "$tree/src/$program" "$out/$program"
    done
    cp "$tree/src/valkey-rdma.so" "$out/valkey-rdma.so"
    "$out/valkey-server" --version > "$out/version"
}

build_tree() { # TREE LOG
    echo "valkey: building $1 with BUILD_RDMA=module (about 2 minutes on 2 cores)" >&2
    if ! make -C "$1" -j"$jobs" BUILD_RDMA=module > "$2" 2>&1; then
        echo "valkey: the build failed, last lines of $2:" >&2
        tail -n 15 "$2" >&2
        return 1
    fi
    if [ ! -f "$1/src/valkey-rdma.so" ]; then
        echo "valkey: the build made no src/valkey-rdma.so (is this a Valkey 8.0 or later tree?)" >&2
        return 1
    fi
}

case "$mode" in
default)
    pinned=$3
    lists="$cache_dir/apt/lists"
    mkdir -p "$lists/partial"
    # A source list for sid, derived from the machine's own Debian source (same URIs),
    # used through apt options only: the system's apt configuration stays untouched.
    uri=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
    if [ -z "$uri" ]; then
        uri=$(awk '$1 == "deb" && $2 !~ /security/ {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
    fi
    if [ -z "$uri" ]; then
        echo "valkey: cannot find the machine's Debian archive address in its apt sources" >&2
        exit 125
    fi
    printf 'Types: deb-src\nURIs: %s\nSuites: sid\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
        "$uri" > "$cache_dir/apt/sid.sources"
    apt_options=(-o "Dir::Etc::SourceList=$cache_dir/apt/sid.sources" -o "Dir::Etc::SourceParts=/dev/null"
        -o "Dir::State::Lists=$lists" -o "APT::Sandbox::User=root")
    target="$cache_dir/valkey/$pinned"
    if [ -f "$target/complete" ]; then
        echo "$target"
        exit 0
    fi
    echo "valkey: fetching Debian's valkey source package (first run only)" >&2
    apt-get "${apt_options[@]}" -q update >/dev/null 2>&1 || {
        echo "valkey: cannot read the sid source index" >&2
        exit 125
    }
    offered=$(apt-get "${apt_options[@]}" source --print-uris valkey 2>/dev/null |
        awk -F"'" '/\.dsc/ {print $2; exit}' | sed -E 's/.*valkey_([^-]+)-.*/\1/')
    version=$pinned
    if [ -z "$offered" ]; then
        echo "valkey: the registry offers no valkey source package" >&2
        exit 125
    fi
    if [ "$offered" != "$pinned" ]; then
        echo "valkey: pinned $pinned is no longer offered; taking the newest offered, $offered" >&2
        version=$offered
        target="$cache_dir/valkey/$version"
        if [ -f "$target/complete" ]; then
            echo "$target"
            exit 0
        fi
    fi
    mkdir -p "$cache_dir/valkey"
    work=$(mktemp -d "$cache_dir/valkey/.partial-XXXXXX")
    trap 'rm -rf "$work"' EXIT
    (cd "$work" && apt-get "${apt_options[@]}" -q source --download-only "valkey=$version-*" >/dev/null 2>&1 ||
        apt-get "${apt_options[@]}" -q source --download-only valkey >/dev/null 2>&1) || {
        echo "valkey: cannot download the valkey source package" >&2
        exit 125
    }
    mkdir -p "$work/tree"
    tar -xzf "$work"/valkey_*.orig.tar.gz -C "$work/tree" --strip-components=1
    build_tree "$work/tree" "$work/build.log" || exit 125
    install_build "$work/tree" "$work/out"
    echo "debian-source-sid $version" > "$work/out/origin"
    touch "$work/out/complete"
    rm -rf "$target"
    mv "$work/out" "$target"
    echo "$target"
    ;;
source)
    source_dir=$(cd "$3" 2>/dev/null && pwd) || {
        echo "valkey: --valkey-src $3 is not a folder" >&2
        exit 2
    }
    if [ ! -f "$source_dir/src/server.h" ] || [ ! -f "$source_dir/Makefile" ]; then
        echo "valkey: --valkey-src $source_dir is not a Valkey source tree (no src/server.h)" >&2
        exit 2
    fi
    key=$(printf '%s' "$source_dir" | sha256sum | cut -c1-16)
    tree="$cache_dir/valkey-src/$key/tree"
    target="$cache_dir/valkey-src/$key/build"
    mkdir -p "$tree"
    # Copying keeps the user's tree free of build products; -a keeps modification times
    # so that make rebuilds only what changed.
    cp -a "$source_dir/." "$tree/"
    rm -f "$target/complete"
    build_tree "$tree" "$cache_dir/valkey-src/$key/build.log" || exit 125
    work=$(mktemp -d "$cache_dir/valkey-src/$key/.partial-XXXXXX")
    trap 'rm -rf "$work"' EXIT
    install_build "$tree" "$work/out"
    echo "source $source_dir" > "$work/out/origin"
    touch "$work/out/complete"
    rm -rf "$target"
    mv "$work/out" "$target"
    echo "$target"
    ;;
*)
    echo "valkey.sh: unknown mode $mode" >&2
    exit 2
    ;;
esac
