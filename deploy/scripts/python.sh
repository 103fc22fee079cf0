# shellcheck shell=bash
# Python virtualenv (.venv) with dev tools, the shared package and every service, installed editable.

MES_PY_MARKER="$MES_VENV/.mes-installed"

# Editable install targets: shared/ plus every services/*/ that has a pyproject.toml.
python_editable_dirs() {
    if [[ -f "$MES_ROOT/shared/pyproject.toml" ]]; then
        printf '%s\n' shared
    fi
    local svc
    while IFS= read -r svc; do
        [[ -f "$MES_ROOT/services/$svc/pyproject.toml" ]] && printf '%s\n' "services/$svc"
    done < <(service_dirs)
    # The plant simulator drives the services through their HTTP APIs (it imports none of them).
    [[ -f "$MES_ROOT/simulator/pyproject.toml" ]] && printf '%s\n' simulator
    return 0
}

# Hash of everything that decides what gets installed (file names and contents + interpreter).
python_install_hash() {
    (
        cd "$MES_ROOT" || exit 1
        "$MES_VENV/bin/python" -c 'import sys; print(sys.version)'
        for f in dev-requirements.txt shared/pyproject.toml services/*/pyproject.toml simulator/pyproject.toml; do
            [[ -f "$f" ]] || continue
            printf '== %s\n' "$f"
            cat "$f"
        done
    ) | sha256sum | cut -d' ' -f1
}

ensure_venv() {
    if [[ -x "$MES_VENV/bin/python" ]] && "$MES_VENV/bin/python" -c 'import sys' 2>/dev/null; then
        return 0
    fi
    if [[ -e "$MES_VENV" ]]; then
        warn ".venv exists but its interpreter does not run; recreating it."
        rm -rf "$MES_VENV"
    fi
    info "creating .venv with $(python3 -c 'import sys; print(sys.executable, sys.version.split()[0])')"
    if ! python3 -m venv "$MES_VENV" >"$MES_SETUP_LOGS/venv.log" 2>&1; then
        rm -rf "$MES_VENV"
        show_log_tail "$MES_SETUP_LOGS/venv.log" 10
        die "python3 -m venv failed; install the venv module (Debian: apt-get install -y python3-venv) and retry."
    fi
    "$MES_VENV/bin/python" -m pip install -q --disable-pip-version-check --upgrade pip ||
        die "upgrading pip inside .venv failed (see the pip output above); check network access to PyPI."
}

ensure_python() {
    ensure_run_dirs
    ensure_venv
    [[ -f "$MES_ROOT/shared/pyproject.toml" ]] ||
        warn "shared/pyproject.toml does not exist yet; mes_shared is not installed."
    local want have_hash=""
    want="$(python_install_hash)"
    [[ -f "$MES_PY_MARKER" ]] && have_hash="$(head -n1 "$MES_PY_MARKER")"
    if [[ "$want" == "$have_hash" ]]; then
        ok "python packages up to date (.venv)"
        return 0
    fi
    local -a args=(-r dev-requirements.txt)
    local d
    while IFS= read -r d; do
        args+=(-e "$d")
    done < <(python_editable_dirs)
    info "installing python packages: pip install -q ${args[*]}"
    (cd "$MES_ROOT" && "$MES_VENV/bin/pip" install -q --disable-pip-version-check "${args[@]}") ||
        die "pip install failed (see the output above); fix the requirement or pyproject.toml it names and rerun ./mes up."
    printf '%s\n' "$want" >"$MES_PY_MARKER"
    ok "python packages installed (.venv)"
}
