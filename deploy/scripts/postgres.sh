# shellcheck shell=bash
# Local PostgreSQL from Debian's "postgresql" package binaries, own data dir, 127.0.0.1 only.
#
# Layout: .run/pg/{data,sock,log/postgres.log}. When we are root the server runs as the
# "postgres" OS user (PostgreSQL refuses to run as root); if that user cannot reach the repo
# path, .run/pg is a symlink to /var/lib/mes/<sha1 of repo path>/pg.

PG_LINK="$MES_RUN/pg"
PG_SUPERUSER=postgres

# Highest installed /usr/lib/postgresql/<ver>/bin (empty if none).
pg_find_bin() {
    local d best=""
    for d in /usr/lib/postgresql/*/bin; do
        [[ -x "$d/pg_ctl" && -x "$d/initdb" ]] || continue
        if [[ -z "$best" ]] || [[ "$(printf '%s\n%s\n' "$best" "$d" | sort -V | tail -n1)" == "$d" ]]; then
            best="$d"
        fi
    done
    printf '%s' "$best"
}

pg_ensure_installed() {
    PG_BIN="$(pg_find_bin)"
    if [[ -z "$PG_BIN" ]]; then
        is_root || die "PostgreSQL server binaries were not found in /usr/lib/postgresql/*/bin; install them with: sudo apt-get install -y postgresql"
        info "installing PostgreSQL (apt-get install -y postgresql)"
        {
            apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql
        } >"$MES_SETUP_LOGS/apt-postgresql.log" 2>&1 || {
            show_log_tail "$MES_SETUP_LOGS/apt-postgresql.log" 20
            die "apt-get install postgresql failed; see .run/logs/setup/apt-postgresql.log."
        }
        PG_BIN="$(pg_find_bin)"
        [[ -n "$PG_BIN" ]] || die "apt-get installed postgresql but no /usr/lib/postgresql/*/bin/pg_ctl exists; check the package."
    fi
    PG_MAJOR="$(basename "$(dirname "$PG_BIN")")"
}

# Run a command as the "postgres" OS user (root only). runuser lives in /usr/sbin, which is not
# always on PATH.
as_postgres_user() {
    local r
    r="$(command -v runuser || true)"
    for r in "$r" /usr/sbin/runuser /sbin/runuser; do
        [[ -n "$r" && -x "$r" ]] && break
    done
    [[ -x "$r" ]] || die "runuser was not found; install util-linux (./mes uses it to run PostgreSQL as the postgres user)."
    # cd / first: the postgres user may not be allowed into the current directory.
    (cd / && "$r" -u postgres -- "$@")
}

# Run a command as the OS user that owns the cluster.
pg_as_owner() {
    if is_root; then
        as_postgres_user "$@"
    else
        "$@"
    fi
}

# Set PG_BASE, PG_DATA, PG_SOCK, PG_LOG from the existing .run/pg (read-only).
pg_paths() {
    PG_BASE="$(readlink -f "$PG_LINK")"
    PG_DATA="$PG_BASE/data"
    PG_LOG="$PG_BASE/log/postgres.log"
    PG_SOCK="$PG_BASE/sock"
    # Unix socket paths are limited to 107 bytes; fall back to a short directory under /tmp.
    if ((${#PG_SOCK} + 20 > 107)); then
        PG_SOCK="/tmp/mes-pg-$(sha1_of "$MES_ROOT" | cut -c1-12)"
    fi
}

# Decide where the cluster lives (first run only), create the directories, set the paths.
pg_layout() {
    ensure_run_dirs
    if is_root; then
        id postgres >/dev/null 2>&1 ||
            die "the 'postgres' OS user does not exist; reinstall the Debian package: apt-get install --reinstall -y postgresql-common"
    fi
    if [[ ! -e "$PG_LINK" ]]; then
        rm -f "$PG_LINK" # dangling symlink
        if is_root && ! as_postgres_user test -x "$MES_RUN"; then
            local alt
            alt="/var/lib/mes/$(sha1_of "$MES_ROOT")/pg"
            warn "the postgres OS user cannot traverse $MES_ROOT; keeping the PostgreSQL data in $alt."
            mkdir -p "$alt"
            ln -s "$alt" "$PG_LINK"
        else
            mkdir -p "$PG_LINK"
        fi
    fi
    pg_paths
    mkdir -p "$PG_BASE/log" "$PG_SOCK"
    if is_root; then
        chown postgres: "$PG_BASE" "$PG_BASE/log" "$PG_SOCK"
        if [[ -d "$PG_DATA" ]]; then chown -R postgres: "$PG_DATA"; fi
        as_postgres_user test -w "$PG_BASE" ||
            die "the postgres OS user cannot write to $PG_BASE; make the repo path traversable (chmod o+x on its parent directories) or run './mes down --purge' and retry."
    fi
    chmod 700 "$PG_BASE"
    ln -sfn "$PG_LOG" "$MES_LOGS/postgres.log"
}

# pid of our running postmaster (from postmaster.pid, verified by pg_ctl status).
pg_running_pid() {
    [[ -f "$PG_DATA/postmaster.pid" ]] || return 1
    pg_as_owner "$PG_BIN/pg_ctl" status -D "$PG_DATA" >/dev/null 2>&1 || return 1
    head -n1 "$PG_DATA/postmaster.pid"
}

pg_running_port() { sed -n 4p "$PG_DATA/postmaster.pid" 2>/dev/null; }

pg_initdb() {
    if [[ -f "$PG_DATA/PG_VERSION" ]]; then
        local have_major
        have_major="$(head -n1 "$PG_DATA/PG_VERSION")"
        [[ "$have_major" == "$PG_MAJOR" ]] ||
            die "the data dir $PG_DATA was created by PostgreSQL $have_major but the installed server is $PG_MAJOR; run './mes down --purge' to recreate it (this deletes local data)."
        return 0
    fi
    info "initialising PostgreSQL $PG_MAJOR cluster in ${PG_DATA#"$MES_ROOT"/}"
    rm -rf "$PG_DATA"
    mkdir -p "$PG_DATA"
    is_root && chown postgres: "$PG_DATA"
    chmod 700 "$PG_DATA"
    if ! pg_as_owner "$PG_BIN/initdb" -D "$PG_DATA" -U "$PG_SUPERUSER" --encoding=UTF8 --no-locale \
        --auth-host=scram-sha-256 --auth-local=trust >"$MES_SETUP_LOGS/initdb.log" 2>&1; then
        show_log_tail "$MES_SETUP_LOGS/initdb.log" 20
        rm -rf "$PG_DATA"
        die "initdb failed; see .run/logs/setup/initdb.log."
    fi
    echo "include_if_exists = 'mes.conf'	# written by ./mes up" >>"$PG_DATA/postgresql.conf"
}

# Settings for a small (2 core) dev/CI machine; rewritten on every start.
pg_write_conf() {
    cat >"$PG_DATA/mes.conf" <<EOF
# Written by ./mes up on every start; edit deploy/scripts/postgres.sh instead.
listen_addresses = '127.0.0.1'
port = $MES_PG_PORT
unix_socket_directories = '$PG_SOCK'
max_connections = 200
shared_buffers = 128MB
effective_cache_size = 512MB
work_mem = 4MB
maintenance_work_mem = 64MB
max_worker_processes = 4
max_parallel_workers = 2
max_parallel_workers_per_gather = 1
max_parallel_maintenance_workers = 1
wal_buffers = 4MB
checkpoint_timeout = 15min
max_wal_size = 1GB
logging_collector = off
log_line_prefix = '%m [%p] %q%u@%d '
log_min_duration_statement = 1000
log_timezone = 'UTC'
timezone = 'UTC'
EOF
    is_root && chown postgres: "$PG_DATA/mes.conf"
    return 0
}

pg_psql_super() {
    "$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$PG_SOCK" -p "$MES_PG_PORT" -U "$PG_SUPERUSER" -d postgres "$@"
}

# Role "mes" (password mes) and one database per service directory.
pg_bootstrap() {
    local svc db sql
    sql="DO \$\$ BEGIN
  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'mes') THEN
    CREATE ROLE mes LOGIN CREATEDB PASSWORD 'mes';
  ELSE
    ALTER ROLE mes LOGIN CREATEDB PASSWORD 'mes';
  END IF;
END \$\$;"
    pg_psql_super -c "$sql" >/dev/null || die "creating the PostgreSQL role 'mes' failed; see the psql error above."
    while IFS= read -r svc; do
        db="$(service_db "$svc")"
        pg_psql_super -v db="$db" >/dev/null <<'SQL' || die "creating the PostgreSQL database '$db' failed; see the psql error above."
SELECT format('CREATE DATABASE %I OWNER mes', :'db')
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'db') \gexec
SQL
    done < <(service_dirs)
}

pg_up() {
    pg_ensure_installed
    pg_layout
    local pid port
    if pid="$(pg_running_pid)"; then
        port="$(pg_running_port)"
        [[ "$port" == "$MES_PG_PORT" ]] ||
            die "our PostgreSQL is already running on port $port, not MES_PG_PORT=$MES_PG_PORT; run './mes down' first to change the port."
        ok "postgres already running (pid $pid, port $MES_PG_PORT)"
    else
        if port_open "$MES_PG_PORT"; then die_port_busy "$MES_PG_PORT" MES_PG_PORT; fi
        pg_initdb
        pg_write_conf
        info "starting PostgreSQL $PG_MAJOR on 127.0.0.1:$MES_PG_PORT"
        # pg_ctl -w polls until the server accepts connections (or the timeout passes).
        if ! pg_as_owner "$PG_BIN/pg_ctl" start -D "$PG_DATA" -l "$PG_LOG" -w -t "$MES_START_TIMEOUT" -s; then
            show_log_tail "$PG_LOG" 30
            die "PostgreSQL did not start within ${MES_START_TIMEOUT} s; see .run/logs/postgres.log."
        fi
        ok "postgres started (pid $(pg_running_pid), port $MES_PG_PORT)"
    fi
    "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$MES_PG_PORT" -t 10 ||
        die "PostgreSQL is running but does not accept TCP connections on 127.0.0.1:$MES_PG_PORT; see .run/logs/postgres.log."
    pg_bootstrap
}

pg_down() {
    [[ -e "$PG_LINK" ]] || return 0
    PG_BIN="$(pg_find_bin)"
    [[ -n "$PG_BIN" ]] || return 0
    pg_paths
    local pid
    pid="$(pg_running_pid)" || return 0
    info "stopping postgres (pid $pid)"
    pg_as_owner "$PG_BIN/pg_ctl" stop -D "$PG_DATA" -m fast -w -t 60 -s ||
        die "pg_ctl stop failed; see .run/logs/postgres.log."
}

pg_status() {
    local pid=""
    PG_BIN="$(pg_find_bin)"
    if [[ -n "$PG_BIN" && -e "$PG_LINK" ]]; then
        pg_paths
        pid="$(pg_running_pid)" || pid=""
    fi
    if [[ -n "$pid" ]]; then
        printf '%-16s %-8s pid %-8s postgresql://mes:mes@127.0.0.1:%s\n' postgres running "$pid" "$(pg_running_port)"
    else
        printf '%-16s %-8s %-12s postgresql://mes:mes@127.0.0.1:%s\n' postgres stopped "" "$MES_PG_PORT"
    fi
}

# Removes the cluster's data (the caller stops the server first).
pg_purge() {
    [[ -e "$PG_LINK" || -L "$PG_LINK" ]] || return 0
    local base
    base="$(readlink -f "$PG_LINK")"
    if [[ -L "$PG_LINK" && "$base" == /var/lib/mes/*/pg ]]; then
        rm -rf "$(dirname "$base")"
    fi
    rm -rf "$PG_LINK"
}
