#!/usr/bin/env bash
# System packages that some tests use when present: PostgreSQL's server (the service's store
# against a real PostgreSQL) and Chromium (the service's dashboard in a headless browser).
# Installs only what is missing, only as root with apt-get; anywhere else, or if installing
# fails, it says so and those tests skip with a reason. Never fails the build. Idempotent.
set -u
want=()
if ! command -v chromium >/dev/null 2>&1; then want+=(chromium); fi
if ! command -v initdb >/dev/null 2>&1 && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    want+=(postgresql)
fi
if [ ${#want[@]} -eq 0 ]; then exit 0; fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "note: not installing ${want[*]} (needs root and apt-get); their tests will skip"
    exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null 2>&1 || true
if ! apt-get install -y -qq --no-install-recommends "${want[@]}" >/dev/null 2>&1; then
    echo "note: could not install ${want[*]}; their tests will skip"
fi
exit 0
