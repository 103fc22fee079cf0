# shellcheck shell=bash
# Local single-node Kafka (KRaft, combined broker + controller) run straight from Maven Central jars.
#
# Jars:   .cache/kafka-$MES_KAFKA_VERSION/libs   (mvn dependency:copy-dependencies, deploy/kafka/pom.xml)
# State:  .run/kafka/{server.properties,cluster.id,data/}
# Log:    .run/logs/kafka.log          pid: .run/pids/kafka.pid

KAFKA_DIR="$MES_RUN/kafka"
KAFKA_DATA="$KAFKA_DIR/data"
KAFKA_PROPS="$KAFKA_DIR/server.properties"
KAFKA_CLUSTER_ID_FILE="$KAFKA_DIR/cluster.id"
KAFKA_PIDFILE="$MES_PIDS/kafka.pid"
KAFKA_LOG="$MES_LOGS/kafka.log"
KAFKA_POM="$MES_ROOT/deploy/kafka/pom.xml"
KAFKA_LIBS="$MES_CACHE/kafka-$MES_KAFKA_VERSION/libs"
KAFKA_LIBS_MARKER="$KAFKA_LIBS/.mes-complete"
KAFKA_BOOTSTRAP="127.0.0.1:$MES_KAFKA_PORT"
KAFKA_PID_PATTERN="kafka.Kafka $KAFKA_PROPS"

# 0 when MES_KAFKA_VERSION >= $1 (version sort).
kafka_version_at_least() {
    [[ "$(printf '%s\n%s\n' "$1" "$MES_KAFKA_VERSION" | sort -V | head -n1)" == "$1" ]]
}

kafka_major() { printf '%s' "${MES_KAFKA_VERSION%%.*}"; }

# Maven profile and logging system-properties for the selected Kafka line.
kafka_maven_profile() { if (($(kafka_major) >= 4)); then printf 'log4j2'; else printf 'kafka3'; fi; }

kafka_log_opts() { # $1 = broker|tools
    local prefix=""
    [[ "$1" == tools ]] && prefix="tools-"
    if (($(kafka_major) >= 4)); then
        printf '%s\n' "-Dlog4j2.configurationFile=$MES_ROOT/deploy/kafka/${prefix}log4j2.xml"
    else
        printf '%s\n' "-Dlog4j.configuration=file:$MES_ROOT/deploy/kafka/${prefix}log4j.properties"
    fi
}

# Download the broker + tools jars once per (version, pom.xml) into .cache/kafka-$V/libs.
kafka_ensure_libs() {
    local want
    want="$MES_KAFKA_VERSION $(kafka_maven_profile) $(sha256sum "$KAFKA_POM" | cut -d' ' -f1)"
    if [[ -f "$KAFKA_LIBS_MARKER" && "$(cat "$KAFKA_LIBS_MARKER")" == "$want" ]]; then
        ok "kafka $MES_KAFKA_VERSION jars present (${KAFKA_LIBS#"$MES_ROOT"/})"
        return 0
    fi
    ensure_run_dirs
    info "downloading Kafka $MES_KAFKA_VERSION jars with Maven into ${KAFKA_LIBS#"$MES_ROOT"/}"
    rm -rf "$KAFKA_LIBS"
    if ! mvn -q -B -Dstyle.color=never -f "$KAFKA_POM" -P "$(kafka_maven_profile)" -Dkafka.version="$MES_KAFKA_VERSION" \
        dependency:copy-dependencies -DoutputDirectory="$KAFKA_LIBS" >"$MES_SETUP_LOGS/maven-kafka.log" 2>&1; then
        show_log_tail "$MES_SETUP_LOGS/maven-kafka.log" 30
        rm -rf "$KAFKA_LIBS"
        die "Maven could not download Kafka $MES_KAFKA_VERSION (see .run/logs/setup/maven-kafka.log); check access to Maven Central and that MES_KAFKA_VERSION exists."
    fi
    compgen -G "$KAFKA_LIBS/kafka_2.13-*.jar" >/dev/null ||
        die "Maven finished but ${KAFKA_LIBS#"$MES_ROOT"/} has no kafka_2.13 jar; see .run/logs/setup/maven-kafka.log."
    printf '%s\n' "$want" >"$KAFKA_LIBS_MARKER"
    ok "kafka $MES_KAFKA_VERSION jars downloaded ($(find "$KAFKA_LIBS" -name '*.jar' | wc -l) jars)"
}

# Run a Kafka command-line tool class in the foreground with the local classpath.
#   kafka_tool <main class> [args...]
kafka_tool() {
    local cls="$1"
    shift
    local -a opts
    mapfile -t opts < <(kafka_log_opts tools)
    java -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Djava.awt.headless=true "${opts[@]}" \
        -cp "$KAFKA_LIBS/*" "$cls" "$@"
}

kafka_render_config() {
    mkdir -p "$KAFKA_DIR" "$KAFKA_DATA"
    sed -e "s|@KAFKA_PORT@|$MES_KAFKA_PORT|g" \
        -e "s|@CONTROLLER_PORT@|$MES_KAFKA_CONTROLLER_PORT|g" \
        -e "s|@DATA_DIR@|$KAFKA_DATA|g" \
        "$MES_ROOT/deploy/kafka/server.properties.tmpl" >"$KAFKA_PROPS.tmp"
    mv "$KAFKA_PROPS.tmp" "$KAFKA_PROPS"
    # Client settings for the readiness probe: fail fast instead of the 60 s defaults.
    printf '%s\n' request.timeout.ms=3000 default.api.timeout.ms=5000 >"$KAFKA_DIR/probe.properties"
}

# Format the KRaft storage once (a cluster id is generated and kept in .run/kafka/cluster.id).
kafka_format() {
    if [[ -f "$KAFKA_DATA/meta.properties" ]]; then
        local formatted_with
        formatted_with="$(cat "$KAFKA_DIR/formatted-with" 2>/dev/null || true)"
        # Newer brokers read older metadata, but not the other way round.
        if [[ -n "$formatted_with" ]] && ! kafka_version_at_least "$formatted_with"; then
            die "the Kafka data in .run/kafka was written by Kafka $formatted_with and cannot be read by $MES_KAFKA_VERSION; run './mes down --purge' (deletes local data) or set MES_KAFKA_VERSION=$formatted_with."
        fi
        return 0
    fi
    local cid
    if [[ -s "$KAFKA_CLUSTER_ID_FILE" ]]; then
        cid="$(head -n1 "$KAFKA_CLUSTER_ID_FILE")"
    else
        cid="$(kafka_tool kafka.tools.StorageTool random-uuid)" ||
            die "generating a Kafka cluster id failed (kafka.tools.StorageTool random-uuid); see the error above."
        printf '%s\n' "$cid" >"$KAFKA_CLUSTER_ID_FILE"
    fi
    info "formatting Kafka storage (cluster id $cid)"
    if ! kafka_tool kafka.tools.StorageTool format -t "$cid" -c "$KAFKA_PROPS" >"$MES_SETUP_LOGS/kafka-format.log" 2>&1; then
        show_log_tail "$MES_SETUP_LOGS/kafka-format.log" 20
        die "formatting the Kafka storage failed; see .run/logs/setup/kafka-format.log (or './mes down --purge' to start over)."
    fi
    printf '%s\n' "$MES_KAFKA_VERSION" >"$KAFKA_DIR/formatted-with"
}

kafka_running_pid() { running_pid "$KAFKA_PIDFILE" "$KAFKA_PID_PATTERN"; }

kafka_running_port() { sed -n 's|^listeners=PLAINTEXT://127\.0\.0\.1:\([0-9]*\),.*|\1|p' "$KAFKA_PROPS" 2>/dev/null; }

# Wait until the broker answers a metadata request (TopicCommand --list), or fail with the log.
kafka_wait_ready() {
    local pid="$1" deadline
    deadline=$(($(now) + MES_START_TIMEOUT))
    while :; do
        kill -0 "$pid" 2>/dev/null || {
            show_log_tail "$KAFKA_LOG" 40
            die "Kafka exited during startup; see .run/logs/kafka.log."
        }
        if port_open "$MES_KAFKA_PORT" &&
            kafka_tool org.apache.kafka.tools.TopicCommand --bootstrap-server "$KAFKA_BOOTSTRAP" \
                --command-config "$KAFKA_DIR/probe.properties" --list >/dev/null 2>&1; then
            return 0
        fi
        if (($(now) >= deadline)); then
            show_log_tail "$KAFKA_LOG" 40
            die "Kafka did not become ready on $KAFKA_BOOTSTRAP within ${MES_START_TIMEOUT} s; see .run/logs/kafka.log."
        fi
        sleep 0.5
    done
}

kafka_up() {
    kafka_ensure_libs
    local pid port
    if pid="$(kafka_running_pid)"; then
        port="$(kafka_running_port)"
        [[ "$port" == "$MES_KAFKA_PORT" ]] ||
            die "our Kafka is already running on port $port, not MES_KAFKA_PORT=$MES_KAFKA_PORT; run './mes down' first to change the port."
        port_open "$MES_KAFKA_PORT" ||
            die "Kafka (pid $pid) is running but nothing answers on $KAFKA_BOOTSTRAP; run './mes down' and retry (log: .run/logs/kafka.log)."
        ok "kafka already running (pid $pid, $KAFKA_BOOTSTRAP)"
        return 0
    fi
    if port_open "$MES_KAFKA_PORT"; then die_port_busy "$MES_KAFKA_PORT" MES_KAFKA_PORT; fi
    if port_open "$MES_KAFKA_CONTROLLER_PORT"; then die_port_busy "$MES_KAFKA_CONTROLLER_PORT" MES_KAFKA_CONTROLLER_PORT; fi
    ensure_run_dirs
    kafka_render_config
    kafka_format
    info "starting Kafka $MES_KAFKA_VERSION on $KAFKA_BOOTSTRAP"
    local -a heap logopts
    read -r -a heap <<<"${MES_KAFKA_HEAP_OPTS:--Xms256m -Xmx512m}"
    mapfile -t logopts < <(kafka_log_opts broker)
    # Equivalent of bin/kafka-server-start.sh:
    #   java -Xms256m -Xmx512m -cp '.cache/kafka-$V/libs/*' kafka.Kafka .run/kafka/server.properties
    start_background "$KAFKA_PIDFILE" "$KAFKA_LOG" "$KAFKA_DIR" \
        java "${heap[@]}" -server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 \
        -XX:+ExplicitGCInvokesConcurrent -Djava.awt.headless=true \
        "-Dkafka.logs.dir=$MES_LOGS" "${logopts[@]}" \
        -cp "$KAFKA_LIBS/*" kafka.Kafka "$KAFKA_PROPS"
    pid="$(head -n1 "$KAFKA_PIDFILE")"
    kafka_wait_ready "$pid"
    ok "kafka started (pid $pid, $KAFKA_BOOTSTRAP)"
}

kafka_down() {
    stop_pidfile kafka "$KAFKA_PIDFILE" "$KAFKA_PID_PATTERN" 30
}

kafka_status() {
    local pid
    if pid="$(kafka_running_pid)"; then
        printf '%-16s %-8s pid %-8s %s (Kafka %s)\n' kafka running "$pid" "127.0.0.1:$(kafka_running_port)" "$MES_KAFKA_VERSION"
    else
        printf '%-16s %-8s %-12s %s\n' kafka stopped "" "$KAFKA_BOOTSTRAP"
    fi
}

# ./mes kafka-console-consumer <topic> [extra ConsoleConsumer args]
# The raw command (Kafka >= 4.2; older versions use --property instead of --formatter-property):
#   java -cp '.cache/kafka-4.4.0/libs/*' -Dlog4j2.configurationFile=deploy/kafka/tools-log4j2.xml \
#        org.apache.kafka.tools.consumer.ConsoleConsumer --bootstrap-server 127.0.0.1:19092 \
#        --topic <topic> --from-beginning --formatter-property print.key=true
kafka_console_consumer() {
    (($# >= 1)) || die "usage: ./mes kafka-console-consumer <topic> [ConsoleConsumer args...]"
    local topic="$1"
    shift
    kafka_ensure_libs >/dev/null
    local prop_flag=--property
    kafka_version_at_least 4.2.0 && prop_flag=--formatter-property
    local cls=org.apache.kafka.tools.consumer.ConsoleConsumer
    compgen -G "$KAFKA_LIBS/kafka-tools-*.jar" >/dev/null || cls=kafka.tools.ConsoleConsumer
    kafka_tool "$cls" --bootstrap-server "$KAFKA_BOOTSTRAP" --topic "$topic" \
        --from-beginning "$prop_flag" print.key=true "$@"
}

kafka_purge() { rm -rf "$KAFKA_DIR"; }
