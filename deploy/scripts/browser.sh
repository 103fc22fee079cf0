# shellcheck shell=bash
# Debian's Chromium for the dashboard's browser test (headless; the test drives it over CDP).

MES_CHROMIUM="${MES_CHROMIUM:-/usr/bin/chromium}"

browser_ensure_installed() {
    [[ -x "$MES_CHROMIUM" ]] && return 0
    is_root || die "Chromium is needed for the dashboard test; install it with: sudo apt-get install -y chromium (or set MES_CHROMIUM)"
    info "installing Chromium for the dashboard test (apt-get install -y chromium)"
    {
        apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium fonts-dejavu-core
    } >"$MES_SETUP_LOGS/apt-chromium.log" 2>&1 || {
        show_log_tail "$MES_SETUP_LOGS/apt-chromium.log" 20
        die "apt-get install chromium failed; see .run/logs/setup/apt-chromium.log."
    }
    [[ -x "$MES_CHROMIUM" ]] || die "apt-get installed chromium but $MES_CHROMIUM does not exist; set MES_CHROMIUM to its path."
}
