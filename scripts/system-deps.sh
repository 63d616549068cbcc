#!/usr/bin/env bash
# The system programs some tests drive, installed where this machine lets us (`make test` runs
# this):
#   * the MIT Kerberos KDC and client programs, and libkrb5-dev to build python-gssapi
#     (Debian/Ubuntu packages, installed with apt-get when running as root), and python-gssapi
#     in the project's virtualenv (the `kerberos` extra), for the Kerberos tests;
#   * libvirt's virt-xml-validate and xmllint, to validate `dumpxml` against libvirt's schema;
#   * PostgreSQL's server and Chromium, for the service's store and its dashboard in a headless
#     browser;
#   * zsh and fish, to check the completion scripts the CLI prints for them.
# Idempotent and quick when everything is there (no apt-get, no pip).  Where packages cannot be
# installed (no apt-get, not root) it says so and the Kerberos tests skip, naming what is
# missing.  Where they can but installing fails, it fails: CI must not skip them silently.
set -euo pipefail

python="${1:?usage: scripts/system-deps.sh VENV_PYTHON}"
cd "$(dirname "$0")/.."

has() { PATH="$PATH:/usr/sbin:/sbin" command -v "$1" >/dev/null 2>&1; }

packages=()
for pair in krb5kdc:krb5-kdc kadmin.local:krb5-admin-server kdb5_util:krb5-kdc \
            kinit:krb5-user klist:krb5-user krb5-config:libkrb5-dev gcc:gcc \
            virt-xml-validate:libvirt-clients xmllint:libxml2-utils zsh:zsh fish:fish; do
    has "${pair%%:*}" || packages+=("${pair#*:}")
done
has chromium || packages+=(chromium)
# Debian keeps PostgreSQL's server programs off PATH, under /usr/lib/postgresql/VERSION/bin.
has initdb || compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null || packages+=(postgresql)
if ! "$python" -c 'import gssapi' 2>/dev/null; then
    # Building python-gssapi (no Linux wheels on PyPI) needs Python's own headers too.
    if ! "$python" -c 'import os, sysconfig, sys; sys.exit(not os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")))'; then
        packages+=(python3-dev)
    fi
fi

if ((${#packages[@]})); then
    mapfile -t packages < <(printf '%s\n' "${packages[@]}" | sort -u)
    if has apt-get && [ "$(id -u)" = 0 ]; then
        echo "system-deps: apt-get install ${packages[*]}"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
    else
        echo "system-deps: missing ${packages[*]} and cannot install them here" \
             "(needs apt-get as root): the tests that need them will be skipped" >&2
        exit 0
    fi
fi

if ! "$python" -c 'import gssapi' 2>/dev/null; then
    echo "system-deps: pip install -e '.[kerberos]' (builds python-gssapi)"
    "$python" -m pip install --quiet -e '.[kerberos]'
fi
