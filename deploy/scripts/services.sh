# shellcheck shell=bash
# Kafka topics, Alembic migrations and the uvicorn processes of the services in MES_SERVICES.

# Create/update the Kafka topics declared by mes_shared.topics (reads MES_KAFKA_BOOTSTRAP).
topics_up() {
    if ! "$MES_VENV/bin/python" -c 'import mes_shared.topics' >/dev/null 2>&1; then
        warn "mes_shared.topics is not importable yet; skipping Kafka topic creation."
        return 0
    fi
    info "creating Kafka topics (python -m mes_shared.topics create)"
    (cd "$MES_ROOT" && "$MES_VENV/bin/python" -m mes_shared.topics create) ||
        die "creating Kafka topics failed (python -m mes_shared.topics create); see the error above."
}

# alembic upgrade head for every services/<svc>/alembic.ini (with .run/env loaded).
migrations_up() {
    local svc
    while IFS= read -r svc; do
        [[ -f "$MES_ROOT/services/$svc/alembic.ini" ]] || continue
        [[ -x "$MES_VENV/bin/alembic" ]] ||
            die "services/$svc has alembic.ini but .venv/bin/alembic is missing; add alembic to services/$svc/pyproject.toml dependencies."
        info "migrating $svc (alembic upgrade head)"
        (cd "$MES_ROOT/services/$svc" && ../../.venv/bin/alembic upgrade head) ||
            die "alembic upgrade head failed for services/$svc; see the error above."
    done < <(service_dirs)
}

# How every service's uvicorn speaks HTTP (the Dockerfiles say the same): its own 400 for a request it cannot
# parse is problem+json (mes_shared/http_server.py), and no WebSocket upgrade (none of the services has one;
# uvicorn would refuse it with a bare text/plain 403, the app answers it as any other request).
MES_HTTP_PROTOCOL="mes_shared.http_server:ProblemHTTPProtocol"

service_pidfile() { printf '%s' "$MES_PIDS/$1.pid"; }
service_log() { printf '%s' "$MES_LOGS/$1.log"; }
service_pid_pattern() { printf '%s' "uvicorn --factory $2.main:create_app"; } # $1 svc, $2 module

# Port a running uvicorn was started with (from its command line).
service_running_port() {
    tr '\0' '\n' <"/proc/$1/cmdline" 2>/dev/null | sed -n '/^--port$/{n;p;q}'
}

service_up() {
    local svc="$1" module port pid pidfile log url rc=0
    read -r module port <<<"$(service_entry "$svc")"
    pidfile="$(service_pidfile "$svc")"
    log="$(service_log "$svc")"
    url="http://127.0.0.1:$port"
    if pid="$(running_pid "$pidfile" "$(service_pid_pattern "$svc" "$module")")"; then
        [[ "$(service_running_port "$pid")" == "$port" ]] ||
            die "$svc is already running on port $(service_running_port "$pid"), not $port; run './mes down' first to change the port."
        ok "$svc already running (pid $pid, $url)"
        return 0
    fi
    if port_open "$port"; then die_port_busy "$port" "MES_PORT_$(upper_snake "$svc")"; fi
    info "starting $svc on $url"
    start_background "$pidfile" "$log" "$MES_ROOT/services/$svc" \
        "$MES_VENV/bin/uvicorn" --factory "$module.main:create_app" --host 127.0.0.1 --port "$port" --no-access-log \
        --http "$MES_HTTP_PROTOCOL" --ws none
    pid="$(head -n1 "$pidfile")"
    http_wait_ok "$url/health/ready" "$MES_START_TIMEOUT" "$pid" || rc=$?
    case "$rc" in
    0) ok "$svc ready (pid $pid, $url)" ;;
    2)
        show_log_tail "$log" 40
        die "$svc exited during startup; see ${log#"$MES_ROOT"/}."
        ;;
    *)
        show_log_tail "$log" 40
        die "$svc did not answer 200 on $url/health/ready within ${MES_START_TIMEOUT} s; see ${log#"$MES_ROOT"/}."
        ;;
    esac
}

services_up() {
    local svc
    while IFS= read -r svc; do
        if [[ ! -f "$MES_ROOT/services/$svc/pyproject.toml" ]]; then
            warn "services/$svc has no pyproject.toml yet; not starting it."
            continue
        fi
        service_up "$svc"
    done < <(table_services)
    while IFS= read -r svc; do
        service_entry "$svc" >/dev/null ||
            warn "services/$svc is not in the MES_SERVICES table in ./mes; it is not started."
    done < <(service_dirs)
}

services_down() {
    local entry svc module port
    for entry in "${MES_SERVICES[@]}"; do
        IFS=: read -r svc module port <<<"$entry"
        stop_pidfile "$svc" "$(service_pidfile "$svc")" "$(service_pid_pattern "$svc" "$module")" 20
    done
}

services_status() {
    local svc module port pid
    while IFS= read -r svc; do
        read -r module port <<<"$(service_entry "$svc")"
        if pid="$(running_pid "$(service_pidfile "$svc")" "$(service_pid_pattern "$svc" "$module")")"; then
            printf '%-16s %-8s pid %-8s http://127.0.0.1:%s\n' "$svc" running "$pid" "$(service_running_port "$pid")"
        else
            printf '%-16s %-8s %-12s http://127.0.0.1:%s\n' "$svc" stopped "" "$port"
        fi
    done < <(table_services)
}

print_summary() {
    local with_services="$1" svc module port
    echo
    printf '%sMES local stack is up.%s\n' "$_c_bold" "$_c_off"
    printf '  %-22s postgresql://mes:mes@127.0.0.1:%s/<db>   (dbs: %s)\n' "PostgreSQL" "$MES_PG_PORT" \
        "$(service_dirs | while IFS= read -r svc; do printf '%s ' "$(service_db "$svc")"; done)"
    printf '  %-22s 127.0.0.1:%s   (Kafka %s)\n' "Kafka bootstrap" "$MES_KAFKA_PORT" "$MES_KAFKA_VERSION"
    if [[ "$with_services" == 1 ]]; then
        while IFS= read -r svc; do
            [[ -f "$MES_ROOT/services/$svc/pyproject.toml" ]] || continue
            read -r module port <<<"$(service_entry "$svc")"
            printf '  %-22s http://127.0.0.1:%s   (API docs: http://127.0.0.1:%s/docs)\n' "$svc" "$port" "$port"
        done < <(table_services)
    else
        printf '  %-22s not started (--no-services)\n' "services"
    fi
    printf '  %-22s .run/logs/*.log   (./mes status, ./mes down)\n' "logs"
    printf '  %-22s set -a; . .run/env; set +a\n' "environment"
    printf '  %-22s ./mes token --role <role> [--station <id>] [--sub <name>] [--ttl-hours <h>] [--aud <service>]; ./mes token revoke <token-or-jti>\n' "token"
}
