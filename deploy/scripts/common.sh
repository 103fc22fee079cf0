# shellcheck shell=bash
# Shared helpers for ./mes: paths, messages, processes, ports, the service table and .run/env.
# Sourced by ./mes (which sets MES_ROOT and MES_SERVICES); not meant to be executed directly.
# shellcheck disable=SC2034  # the layout variables below are used by the other scripts

# ---------------------------------------------------------------------------------------------
# Layout
# ---------------------------------------------------------------------------------------------
MES_RUN="$MES_ROOT/.run"                 # runtime state: data, pids, logs, env, secret
MES_PIDS="$MES_RUN/pids"
MES_LOGS="$MES_RUN/logs"
MES_SETUP_LOGS="$MES_LOGS/setup"     # one-off setup steps (venv, initdb, maven, ...)
MES_ENV_FILE="$MES_RUN/env"
MES_SECRET_FILE="$MES_RUN/secret"
# Revoked token ids (./mes token revoke appends; the services re-read it when it changes).
MES_REVOKED_FILE="$MES_RUN/revoked-tokens"
MES_CACHE="$MES_ROOT/.cache"             # downloaded artifacts (Kafka jars)
MES_VENV="$MES_ROOT/.venv"
MES_START_TIMEOUT="${MES_START_TIMEOUT:-60}"   # seconds to wait for each piece to become ready

MES_PG_PORT="${MES_PG_PORT:-15432}"
MES_KAFKA_PORT="${MES_KAFKA_PORT:-19092}"
MES_KAFKA_CONTROLLER_PORT="${MES_KAFKA_CONTROLLER_PORT:-19093}"

# ---------------------------------------------------------------------------------------------
# Messages
# ---------------------------------------------------------------------------------------------
if [[ -t 1 ]]; then
    _c_bold=$'\e[1m' _c_red=$'\e[31m' _c_yellow=$'\e[33m' _c_green=$'\e[32m' _c_off=$'\e[0m'
else
    _c_bold='' _c_red='' _c_yellow='' _c_green='' _c_off=''
fi

info() { printf '%s==>%s %s\n' "$_c_bold" "$_c_off" "$*"; }
ok()   { printf '%s ok%s %s\n' "$_c_green" "$_c_off" "$*"; }
warn() { printf '%swarning:%s %s\n' "$_c_yellow" "$_c_off" "$*" >&2; }
die()  { printf '%serror:%s %s\n' "$_c_red" "$_c_off" "$*" >&2; exit 1; }

# Print the last lines of a log file to stderr (used when something fails to start).
show_log_tail() {
    local file="$1" lines="${2:-40}"
    [[ -f "$file" ]] || return 0
    printf -- '----- last %s lines of %s -----\n' "$lines" "${file#"$MES_ROOT"/}" >&2
    tail -n "$lines" "$file" >&2 || true
    printf -- '----- end of %s -----\n' "${file#"$MES_ROOT"/}" >&2
}

# ---------------------------------------------------------------------------------------------
# Small utilities
# ---------------------------------------------------------------------------------------------
have() { command -v "$1" >/dev/null 2>&1; }

is_root() { [[ "$(id -u)" -eq 0 ]]; }

sha1_of() { printf '%s' "$1" | sha1sum | cut -d' ' -f1; }

# Seconds since the epoch (bash builtin, no fork).
now() { printf '%(%s)T' -1; }

# "kit-receiving" -> "kit_receiving"; "kit-receiving" -> "KIT_RECEIVING".
snake() { local s="${1//-/_}"; printf '%s' "${s,,}"; }
upper_snake() { local s="${1//-/_}"; printf '%s' "${s^^}"; }

ensure_run_dirs() { mkdir -p "$MES_RUN" "$MES_PIDS" "$MES_LOGS" "$MES_SETUP_LOGS"; }

# ---------------------------------------------------------------------------------------------
# Ports and processes
# ---------------------------------------------------------------------------------------------
# True when something accepts TCP connections on 127.0.0.1:<port>.
port_open() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

die_port_busy() { # <port> <env var that changes it>
    die "port $1 is already in use by another process; set $2 to a free port."
}

# True when <pid> is alive and its command line contains <pattern> (guards against pid reuse).
pid_matches() {
    local pid="$1" pattern="$2" cmdline
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    kill -0 "$pid" 2>/dev/null || return 1
    cmdline="$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)" || return 1
    [[ "$cmdline" == *"$pattern"* ]]
}

# Print the pid stored in <pidfile> if that process is alive and matches <pattern>.
running_pid() {
    local pidfile="$1" pattern="$2" pid
    [[ -f "$pidfile" ]] || return 1
    pid="$(head -n1 "$pidfile" 2>/dev/null || true)"
    pid_matches "$pid" "$pattern" || return 1
    printf '%s' "$pid"
}

# Start a long-running command detached from this terminal (own session, stdin from /dev/null,
# stdout+stderr appended to <log>) and write its pid to <pidfile>.
#   start_background <pidfile> <log> <workdir> <command> [args...]
start_background() {
    local pidfile="$1" log="$2" workdir="$3"
    shift 3
    rm -f "$pidfile"
    printf '\n===== %s: starting %s =====\n' "$(date '+%F %T')" "$*" >>"$log"
    # The inner shell writes its own pid and then exec()s the command, so the pid is exact even
    # if setsid has to fork.
    (
        cd "$workdir" || exit 1
        # shellcheck disable=SC2016  # $$ and $@ are for the inner shell
        exec setsid nohup bash -c 'echo $$ >"$0"; exec "$@"' "$pidfile" "$@" >>"$log" 2>&1 </dev/null
    ) &
    local deadline=$(($(now) + 10))
    until [[ -s "$pidfile" ]]; do
        (($(now) < deadline)) || die "could not start '$1' (no pid file after 10 s); see ${log#"$MES_ROOT"/}."
        sleep 0.05
    done
}

# Stop the process in <pidfile> (if it is ours and alive): SIGTERM, wait up to <timeout> s, SIGKILL.
#   stop_pidfile <name> <pidfile> <pattern> <timeout>
stop_pidfile() {
    local name="$1" pidfile="$2" pattern="$3" timeout="$4" pid
    if ! pid="$(running_pid "$pidfile" "$pattern")"; then
        rm -f "$pidfile"
        return 0
    fi
    info "stopping $name (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    local deadline=$(($(now) + timeout))
    while kill -0 "$pid" 2>/dev/null; do
        if (($(now) >= deadline)); then
            warn "$name (pid $pid) did not stop within ${timeout} s; sending SIGKILL."
            kill -KILL "$pid" 2>/dev/null || true
            break
        fi
        sleep 0.2
    done
    rm -f "$pidfile"
}

# Poll an HTTP URL until it answers 200, the process <pid> dies, or <timeout> seconds pass.
# Returns 0 on 200, 2 if the process died, 1 on timeout.
http_wait_ok() {
    local url="$1" timeout="$2" pid="$3"
    python3 - "$url" "$timeout" "$pid" <<'PY'
import os, sys, time, urllib.request
url, timeout, pid = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
deadline = time.monotonic() + timeout
while time.monotonic() < deadline:
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            if r.status == 200:
                sys.exit(0)
    except Exception:
        pass
    try:
        os.kill(pid, 0)
    except OSError:
        sys.exit(2)
    time.sleep(0.25)
sys.exit(1)
PY
}

# ---------------------------------------------------------------------------------------------
# Prerequisites
# ---------------------------------------------------------------------------------------------
check_python_prereq() {
    have python3 || die "python3 was not found; install Python 3.11 or newer (Debian: apt-get install -y python3 python3-venv)."
    python3 -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null ||
        die "python3 ($(python3 -V 2>&1 | head -n1)) is not a working Python 3.11 or newer; install one and put it first on PATH."
}

check_java_prereqs() {
    have java || die "java was not found; install a Java 17+ JDK (Debian: apt-get install -y openjdk-17-jdk-headless)."
    local v
    v="$(java -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java\.specification\.version = //p' | head -n1)"
    v="${v#1.}"
    [[ "$v" =~ ^[0-9]+$ ]] || die "could not determine the Java version from 'java -version'; install a Java 17+ JDK."
    ((v >= 17)) || die "java is version $v, but Kafka needs Java 17 or newer; install openjdk-17-jdk-headless and put it first on PATH."
    have mvn || die "mvn (Maven) was not found; install it (Debian: apt-get install -y maven) so the Kafka jars can be downloaded."
}

check_prereqs() {
    check_python_prereq
    check_java_prereqs
    have setsid || die "setsid was not found; install util-linux."
}

# ---------------------------------------------------------------------------------------------
# Services: discovery and the service table (MES_SERVICES, defined in ./mes)
# ---------------------------------------------------------------------------------------------
# Names of all service directories (services/<name>/), sorted.
service_dirs() {
    local d
    for d in "$MES_ROOT"/services/*/; do
        [[ -d "$d" ]] || continue
        d="${d%/}"
        d="${d##*/}"
        [[ "$d" == [._]* ]] && continue
        printf '%s\n' "$d"
    done
}

# Look up a service in MES_SERVICES; prints "<module> <port>" (port after MES_PORT_<SVC> override).
service_entry() {
    local name="$1" entry svc module port var
    for entry in "${MES_SERVICES[@]}"; do
        IFS=: read -r svc module port <<<"$entry"
        if [[ "$svc" == "$name" ]]; then
            var="MES_PORT_$(upper_snake "$svc")"
            printf '%s %s\n' "$module" "${!var:-$port}"
            return 0
        fi
    done
    return 1
}

# Services from the table whose directory exists (in table order).
table_services() {
    local entry svc
    for entry in "${MES_SERVICES[@]}"; do
        svc="${entry%%:*}"
        [[ -d "$MES_ROOT/services/$svc" ]] && printf '%s\n' "$svc"
    done
    return 0
}

service_db() { snake "$1"; }

# ---------------------------------------------------------------------------------------------
# Secret and environment file
# ---------------------------------------------------------------------------------------------
ensure_secret() {
    ensure_run_dirs
    if [[ ! -s "$MES_SECRET_FILE" ]]; then
        (umask 077 && python3 -c 'import secrets;print(secrets.token_urlsafe(48))' >"$MES_SECRET_FILE.tmp")
        mv "$MES_SECRET_FILE.tmp" "$MES_SECRET_FILE"
    fi
}

# (Re)write .run/env from the current ports and service list. Usable by humans:
#   set -a; . .run/env; set +a
write_env_file() {
    ensure_secret
    local secret svc prefix db entry module port tmp
    secret="$(head -n1 "$MES_SECRET_FILE")"
    tmp="$MES_ENV_FILE.tmp"
    {
        echo "# Generated by ./mes up; do not edit (it is rewritten on every run)."
        echo "# Load it into a shell with:  set -a; . .run/env; set +a"
        echo "MES_AUTH_SECRET='$secret'"
        echo "MES_AUTH_REVOKED_FILE='$MES_REVOKED_FILE'"
        echo "MES_KAFKA_BOOTSTRAP=127.0.0.1:$MES_KAFKA_PORT"
        echo "MES_PG_URL=postgresql://mes:mes@127.0.0.1:$MES_PG_PORT"
        while IFS= read -r svc; do
            prefix="$(upper_snake "$svc")_"
            db="$(service_db "$svc")"
            echo
            echo "# services/$svc"
            if entry="$(service_entry "$svc")"; then
                read -r module port <<<"$entry"
                echo "MES_$(upper_snake "$svc")_URL=http://127.0.0.1:$port"
            fi
            echo "${prefix}DATABASE_URL=postgresql+asyncpg://mes:mes@127.0.0.1:$MES_PG_PORT/$db"
            echo "${prefix}KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:$MES_KAFKA_PORT"
            echo "${prefix}AUTH_SECRET='$secret'"
            echo "${prefix}AUTH_REVOKED_FILE='$MES_REVOKED_FILE'"
            echo "${prefix}ENVIRONMENT=development"
            # The demo and the truth test replay a past window through the terminals, the simulator up to a year.
            case "$svc" in
            workforce) echo "${prefix}TERMINAL_MAX_DELAY_MINUTES=576000" ;;
            assembly-line) echo "${prefix}MAX_EVENT_AGE_DAYS=400" ;;
            esac
        done < <(service_dirs)
    } >"$tmp"
    chmod 600 "$tmp"
    mv "$tmp" "$MES_ENV_FILE"
}

load_env_file() {
    set -a
    # shellcheck source=/dev/null
    . "$MES_ENV_FILE"
    set +a
}
