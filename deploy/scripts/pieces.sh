# shellcheck shell=bash
# ./mes piece: crash one piece of the local stack and bring it back, as the fault suite (tests/faults/) does.
# The same pid files, pid checks and start functions as ./mes up, one piece at a time.
#
#   ./mes piece kill <piece>     kill -9 (postgres: the postmaster and its children, as a crashed host would)
#   ./mes piece start <piece>    start it as ./mes up does and wait until it is ready
#   ./mes piece sql '<SQL>'      run SQL as the PostgreSQL superuser in the database "postgres"
# <piece>: postgres, kafka, or a service (kit-receiving, assembly-line, workforce, reporting).

# The pid of a running piece (fails when it is not running).
piece_pid() {
    local piece="$1" entry module port
    case "$piece" in
    postgres)
        PG_BIN="$(pg_find_bin)"
        [[ -n "$PG_BIN" && -e "$PG_LINK" ]] || return 1
        pg_paths
        pg_running_pid
        ;;
    kafka) kafka_running_pid ;;
    *)
        entry="$(service_entry "$piece")" || die "unknown piece '$piece' (expected postgres, kafka or a service)."
        read -r module port <<<"$entry"
        running_pid "$(service_pidfile "$piece")" "$(service_pid_pattern "$piece" "$module")"
        ;;
    esac
}

piece_kill() {
    local piece="$1" pid deadline
    local -a pids
    pid="$(piece_pid "$piece")" || die "$piece is not running."
    pids=("$pid")
    # PostgreSQL's backends would outlive their postmaster for a moment and keep its shared memory.
    [[ "$piece" == postgres ]] && mapfile -t -O 1 pids < <(pgrep -P "$pid" || true)
    kill -KILL "${pids[@]}" 2>/dev/null || true
    deadline=$(($(now) + 20))
    for pid in "${pids[@]}"; do
        while kill -0 "$pid" 2>/dev/null; do
            (($(now) < deadline)) || die "$piece (pid $pid) is still alive 20 s after SIGKILL."
            sleep 0.05
        done
    done
    ok "$piece killed (kill -9 ${pids[*]})"
}

piece_start() {
    local piece="$1"
    ensure_run_dirs
    load_env_file
    case "$piece" in
    postgres) pg_up ;;
    kafka) kafka_up ;;
    *)
        service_entry "$piece" >/dev/null || die "unknown piece '$piece' (expected postgres, kafka or a service)."
        service_up "$piece"
        ;;
    esac
}

cmd_piece() {
    (($# == 2)) || die "usage: ./mes piece kill|start <piece> | ./mes piece sql '<SQL>'"
    case "$1" in
    kill) piece_kill "$2" ;;
    start) piece_start "$2" ;;
    sql)
        PG_BIN="$(pg_find_bin)"
        pg_paths
        pg_psql_super -c "$2"
        ;;
    *) die "unknown action '$1' for ./mes piece (expected kill, start or sql)." ;;
    esac
}
