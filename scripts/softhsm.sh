#!/usr/bin/env bash
# Installs SoftHSM2 for the PKCS#11 tests (feature `pkcs11`) when its module
# is missing. Nothing else: the tests create and remove their own token.
set -euo pipefail

MODULE=/usr/lib/softhsm/libsofthsm2.so

if [ -e "$MODULE" ]; then
    exit 0
fi

. "$(dirname "$0")/lib.sh"
apt_install softhsm2

if [ ! -e "$MODULE" ]; then
    echo "softhsm.sh: softhsm2 installed but $MODULE is missing" >&2
    exit 1
fi
