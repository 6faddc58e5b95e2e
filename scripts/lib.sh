# Shared helpers for the scripts in this directory (sourced, not run).

# apt_install PACKAGE...: installs Debian packages, as root or through sudo.
apt_install() {
    local sudo=()
    if [ "$(id -u)" != 0 ]; then
        sudo=(sudo)
    fi
    "${sudo[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq "$@" >/dev/null
}
