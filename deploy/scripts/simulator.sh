# shellcheck shell=bash
# The plant simulator in demo mode: ./mes up starts it (unless --no-demo); ./mes down and ./mes test stop it.

SIM_PIDFILE="$MES_PIDS/simulator.pid"
SIM_LOG="$MES_LOGS/simulator.log"
SIM_PATTERN="-m plant_sim run"
MES_DEMO_DAYS="${MES_DEMO_DAYS:-14}"          # days of history, replayed at MES_DEMO_SPEED, then live
MES_DEMO_SPEED="${MES_DEMO_SPEED:-2880}"      # simulated seconds per second: two days a minute
MES_DEMO_SCENARIO="${MES_DEMO_SCENARIO:-first-plant}"

simulator_up() {
    local pid deadline from link
    if pid="$(running_pid "$SIM_PIDFILE" "$SIM_PATTERN")"; then
        ok "plant simulator already running (pid $pid, ${SIM_LOG#"$MES_ROOT"/})"
        return 0
    fi
    "$MES_VENV/bin/python" -c 'import plant_sim' 2>/dev/null ||
        die "plant_sim is not installed in .venv (simulator/ must be in python_editable_dirs)."
    from="$(stat -c %s "$SIM_LOG" 2>/dev/null || echo 0)"   # the log is appended to: read only this run's part
    info "starting the plant simulator: $MES_DEMO_DAYS days of $MES_DEMO_SCENARIO history, then live (--no-demo: off)"
    start_background "$SIM_PIDFILE" "$SIM_LOG" "$MES_ROOT" "$MES_VENV/bin/python" -m plant_sim run --demo \
        --days "$MES_DEMO_DAYS" --speed "$MES_DEMO_SPEED" --scenario "$MES_DEMO_SCENARIO" --progress-every 10
    pid="$(head -n1 "$SIM_PIDFILE")"
    deadline=$(($(now) + MES_START_TIMEOUT))
    until link="$(tail -c +"$((from + 1))" "$SIM_LOG" 2>/dev/null | grep -m1 '^dashboard: ')"; do
        kill -0 "$pid" 2>/dev/null || { show_log_tail "$SIM_LOG" 40; die "the plant simulator exited; see ${SIM_LOG#"$MES_ROOT"/}."; }
        (($(now) < deadline)) || { show_log_tail "$SIM_LOG" 40; die "the plant simulator did not finish its set-up within ${MES_START_TIMEOUT} s."; }
        sleep 0.5
    done
    ok "plant simulator running (pid $pid; tail -f ${SIM_LOG#"$MES_ROOT"/})"
    printf '  %-22s %s\n' "dashboard" "${link#dashboard: }"
}

simulator_down() { stop_pidfile "plant simulator" "$SIM_PIDFILE" "$SIM_PATTERN" 30; }

simulator_status() {
    local pid
    if pid="$(running_pid "$SIM_PIDFILE" "$SIM_PATTERN")"; then
        printf '%-16s %-8s pid %-8s %s\n' simulator running "$pid" "${SIM_LOG#"$MES_ROOT"/}"
    else
        printf '%-16s %-8s\n' simulator stopped
    fi
}
