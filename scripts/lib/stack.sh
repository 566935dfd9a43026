# shellcheck shell=bash disable=SC2016 # single-quoted bash -c bodies are intended
# scripts/lib/stack.sh - install, start and stop the local servers embedstream
# needs (Kafka in KRaft mode, Milvus Lite, Redis, a Flink session cluster), all bound to 127.0.0.1.
#
# A sourced library: defines functions only, no top-level side effects.
# Used by scripts/test.sh and scripts/run-local.sh (both `set -euo pipefail`).
#
# Conventions
#   * Every server runs in an instance directory DIR that holds
#       DIR/<name>.pid         its PID (the process is a session leader: setsid)
#       DIR/logs/<name>.log    its stdout/stderr
#     plus its data (Kafka: DIR/data + DIR/server.properties, Milvus: DIR/data).
#   * Every process started through this library (or found running from an
#     earlier run of ours via its PID file) is registered in STACK_PIDFILES;
#     stack_stop_all stops them in reverse order. PID files are read at stop
#     time, so a server restarted by someone else into the same DIR is stopped too.
#   * Functions print progress to stderr ("[stack] ..."), return non-zero with
#     an "ERROR:" line (and the server's log tail) on failure.
#
# Public functions
#   stack_log MSG... / stack_err MSG...   progress / error line on stderr
#   stack_free_port [COUNT]               COUNT (default 1) distinct free TCP ports on 127.0.0.1
#   stack_port_open PORT                  true when 127.0.0.1:PORT accepts connections
#   stack_tcp_open HOST PORT              true when HOST:PORT accepts connections (3 s timeout)
#   stack_endpoint ADDRESS DEFAULT_PORT   "HOST PORT" of a URI or HOST[:PORT] (scheme, user info, path dropped)
#   stack_pid_alive PIDFILE [REGEX]       true when the PID in PIDFILE runs (and its cmdline matches REGEX)
#   stack_spawn NAME DIR STOPSIG CMD...   start CMD detached (own session), log + PID file in DIR, register it
#   stack_wait_for NAME DIR SECS CHECK... poll CHECK... every second until true; fail if NAME died or timed out
#   stack_stop PIDFILE [SIG]              stop one process: SIG (TERM) to its group, KILL after STACK_STOP_TIMEOUT (15 s)
#   stack_stop_all                        stop everything registered, newest first
#   stack_dead_service [NAME...]          print the name of the first registered process that is no longer
#                                         running, NAMEs excepted
#
#   stack_install_kafka HOME              Kafka jars into HOME/libs (via scripts/kafka/pom.xml), log configs into HOME/config
#   stack_kafka_tool HOME CLASS ARGS...   run a Kafka tool class (e.g. org.apache.kafka.tools.TopicCommand)
#   stack_start_kafka HOME DIR PORT       KRaft broker+controller on 127.0.0.1:PORT, data in DIR (kept, formatted once)
#   stack_create_topics HOME BOOTSTRAP PARTITIONS TOPIC[:KEY=VALUE[,KEY=VALUE...]]...
#                                         create topics (replication factor 1) if they do not exist;
#                                         KEY=VALUE are topic configs (embedstream.documents:cleanup.policy=compact),
#                                         also set on a topic that already exists
#   stack_install_milvus VENV             python3 venv with milvus-lite + pymilvus (STACK_MILVUS_PIP overrides the specs)
#   stack_milvus_ping VENV PORT           pymilvus list_collections() against 127.0.0.1:PORT
#   stack_start_milvus VENV DIR PORT      Milvus Lite gRPC server on 127.0.0.1:PORT, data in DIR/data
#   stack_apt_install PKG CMD             apt-get install PKG when command CMD is missing (root or sudo)
#   stack_install_redis                   apt-get install redis-server when it is missing
#   stack_redis_ping PORT                 true when 127.0.0.1:PORT answers PING with PONG (no redis-cli needed)
#   stack_start_redis DIR PORT            redis-server on 127.0.0.1:PORT without persistence
#   stack_cleanup_on_exit [DIR]          on exit, Ctrl-C or TERM: stop every server started here, remove DIR
#   stack_build_job ROOT CLASSPATH_FILE   (re)build jobs/target/embedstream-job.jar when the sources are
#                                         newer, and write the Flink runtime classpath to CLASSPATH_FILE
#
#   stack_install_flink HOME              Flink 2.2 session cluster jars into HOME/lib (via scripts/flink/pom.xml)
#   stack_start_flink HOME DIR REST_PORT [KEY=VALUE...]
#                                         JobManager + TaskManager JVMs on 127.0.0.1, flink-conf/config.yaml,
#                                         REST on REST_PORT, classpath DIR/lib (HOME/lib + jars the caller adds),
#                                         each KEY=VALUE a configuration override (-D) of both JVMs
#
# Tunables (environment): STACK_STOP_TIMEOUT (15), STACK_KAFKA_START_TIMEOUT (90),
#   STACK_MILVUS_START_TIMEOUT (60), STACK_FLINK_START_TIMEOUT (120), STACK_MILVUS_PIP ("milvus-lite==3.2.2 pymilvus==3.0.2").

# JVM options of a LocalRunner (run-local.sh, bench.sh): what Flink's launch scripts open to it, so
# that a jar run through the MiniCluster's REST API (/jars/:id/run, a migration's backfill job)
# works; the test JVMs get the same from the pom's embedstream.test.argLine.
# shellcheck disable=SC2034 # used by the scripts that source this library
STACK_JOB_JAVA_OPENS=(--add-opens=java.base/java.util=ALL-UNNAMED --add-opens=java.base/java.lang=ALL-UNNAMED)

stack_log() { printf '[stack] %s\n' "$*" >&2; }
stack_err() { printf '[stack] ERROR: %s\n' "$*" >&2; }

stack_free_port() {
  python3 - "${1:-1}" <<'EOF'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
EOF
}

stack_port_open() { stack_tcp_open 127.0.0.1 "$1"; }

stack_tcp_open() {
  timeout 3 bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$1" "$2" 2>/dev/null
}

# redis://:pw@host:6380/0 -> "host 6380"; http://[::1]:19530 -> "::1 19530"; host -> "host DEFAULT_PORT".
stack_endpoint() {
  local rest=${1#*://} default=$2
  rest=${rest%%[/?#]*}
  rest=${rest##*@}
  if [[ $rest =~ ^\[([^]]+)\](:([0-9]+))?$ || $rest =~ ^([^:[]+)(:([0-9]+))?$ ]]; then
    printf '%s %s\n' "${BASH_REMATCH[1]}" "${BASH_REMATCH[3]:-$default}"
  else
    return 1
  fi
}

# True when PID runs and is not a zombie.
_stack_running() {
  local state
  kill -0 "$1" 2>/dev/null || return 1
  state=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 0
  [[ $state != Z ]]
}

stack_pid_alive() {
  local pidfile=$1 regex=${2:-} pid
  pid=$(cat "$pidfile" 2>/dev/null) || return 1
  [[ $pid =~ ^[0-9]+$ ]] && _stack_running "$pid" || return 1
  [[ -z $regex ]] || tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -Eq -- "$regex"
}

_stack_tail_logs() {
  local f
  for f in "$1"/logs/*.log; do
    [[ -f $f ]] || continue
    printf -- '----- last lines of %s -----\n' "$f" >&2
    tail -n "${2:-40}" "$f" >&2
  done
}

# Absolute path of directory $1 (created when missing).
_stack_abs() { mkdir -p "$1" && (cd "$1" && pwd); }

_stack_register() {
  local entry
  for entry in ${STACK_PIDFILES[@]+"${STACK_PIDFILES[@]}"}; do
    [[ $entry == "$1" ]] && return 0
  done
  STACK_PIDFILES+=("$1")
}

stack_spawn() {
  local name=$1 dir=$2 sig=$3 i
  shift 3
  local pidfile="$dir/$name.pid" log="$dir/logs/$name.log"
  mkdir -p "$dir/logs"
  rm -f "$pidfile"
  printf '\n===== %s: starting %s =====\n' "$(date '+%F %T')" "$*" >>"$log"
  # setsid: own session/process group, so a Ctrl-C in the terminal reaches only
  # the calling script, which then stops everything in order. env resets SIGINT,
  # which bash ignores in background jobs (Milvus Lite shuts down cleanly on it).
  # The inner bash writes its own PID (exec keeps it) into the PID file.
  setsid env --default-signal=INT,QUIT bash -c 'echo $$ >"$0.tmp" && mv "$0.tmp" "$0" && exec "$@"' \
    "$pidfile" "$@" </dev/null >>"$log" 2>&1 &
  disown "$!" 2>/dev/null || true # no "Killed" job notices from the calling shell
  _stack_register "$sig:$pidfile"
  for ((i = 0; i < 50; i++)); do
    [[ -s $pidfile ]] && return 0
    sleep 0.1
  done
  stack_err "$name did not start (no PID file $pidfile)"
  _stack_tail_logs "$dir"
  return 1
}

stack_wait_for() {
  local name=$1 dir=$2 secs=$3 start=$SECONDS
  shift 3
  until "$@" >/dev/null 2>&1; do
    if ! stack_pid_alive "$dir/$name.pid"; then
      stack_err "$name exited during startup (logs in $dir/logs)"
      _stack_tail_logs "$dir"
      return 1
    fi
    if ((SECONDS - start >= secs)); then
      stack_err "$name not ready after ${secs}s (logs in $dir/logs)"
      _stack_tail_logs "$dir"
      return 1
    fi
    sleep 1
  done
  stack_log "$name ready after $((SECONDS - start))s"
}

# Decide whether NAME must be started in DIR on PORT. Returns 0: start it;
# 3: ours already runs there (registered for stopping, nothing to do); 1: error.
_stack_claim() {
  local name=$1 dir=$2 port=$3 regex=$4 sig=$5 pidfile="$2/$1.pid"
  if stack_pid_alive "$pidfile" "$regex"; then
    if stack_port_open "$port"; then
      stack_log "$name already running (pid $(cat "$pidfile"), 127.0.0.1:$port), reusing it"
      _stack_register "$sig:$pidfile"
      return 3
    fi
    stack_err "$name from $dir runs (pid $(cat "$pidfile")) but does not listen on 127.0.0.1:$port; stop it (kill $(cat "$pidfile")) and retry"
    return 1
  fi
  rm -f "$pidfile"
  if stack_port_open "$port"; then
    stack_err "port $port on 127.0.0.1 is already in use by another program (not a $name started from $dir); stop it or free the port"
    return 1
  fi
  return 0
}

stack_stop() {
  local pidfile=$1 sig=${2:-TERM} pid start=$SECONDS timeout=${STACK_STOP_TIMEOUT:-15}
  pid=$(cat "$pidfile" 2>/dev/null) || return 0
  if [[ $pid =~ ^[0-9]+$ ]] && _stack_running "$pid"; then
    stack_log "stopping $(basename "$pidfile" .pid) (pid $pid, SIG$sig)"
    kill -s "$sig" -- "-$pid" 2>/dev/null || kill -s "$sig" "$pid" 2>/dev/null || true
    while _stack_running "$pid" && ((SECONDS - start < timeout)); do
      sleep 0.2
    done
    if _stack_running "$pid"; then
      stack_log "$(basename "$pidfile" .pid) (pid $pid) still running after ${timeout}s, sending SIGKILL"
      kill -s KILL -- "-$pid" 2>/dev/null || kill -s KILL "$pid" 2>/dev/null || true
    fi
  fi
  rm -f "$pidfile"
}

stack_stop_all() {
  local i entry
  [[ -n ${STACK_PIDFILES+x} ]] || return 0
  for ((i = ${#STACK_PIDFILES[@]} - 1; i >= 0; i--)); do
    entry=${STACK_PIDFILES[i]}
    stack_stop "${entry#*:}" "${entry%%:*}"
  done
  STACK_PIDFILES=()
}

stack_dead_service() {
  local entry pidfile ignore
  for entry in ${STACK_PIDFILES[@]+"${STACK_PIDFILES[@]}"}; do
    pidfile=${entry#*:}
    for ignore in "$@"; do
      [[ $(basename "$pidfile" .pid) != "$ignore" ]] || continue 2
    done
    if ! stack_pid_alive "$pidfile"; then
      basename "$pidfile" .pid
      return 0
    fi
  done
  return 1
}

# ---------------------------------------------------------------- Kafka

# _stack_fetch_jars WHAT POM_DIR DEST: the runtime dependencies of scripts/POM_DIR/pom.xml into
# DEST, once (DEST/.complete marks a finished copy).
_stack_fetch_jars() {
  local what=$1 pom dest=$3 out
  pom="$(cd "$(dirname "${BASH_SOURCE[0]}")/../$2" && pwd)/pom.xml"
  if [[ -f $dest/.complete ]]; then
    stack_log "$what jars already in $dest"
    return 0
  fi
  stack_log "fetching $what jars into $dest (Maven, once)"
  rm -rf "$dest.tmp"
  # Output kept for failures only (Maven 3.8 -q still prints stray ANSI resets).
  if ! out=$(mvn -B -ntp -q -f "$pom" dependency:copy-dependencies -DoutputDirectory="$dest.tmp" 2>&1); then
    printf '%s\n' "$out" >&2
    stack_err "could not fetch the $what jars with $pom"
    return 1
  fi
  rm -rf "${dest:?}"
  mv "$dest.tmp" "$dest"
  touch "$dest/.complete"
}

stack_install_kafka() {
  local home
  home=$(_stack_abs "$1") || return 1
  _stack_fetch_jars "Kafka broker" kafka "$home/libs" || return 1
  mkdir -p "$home/config"
  cat >"$home/config/log4j2.properties" <<'EOF'
# Kafka broker logging (written by scripts/lib/stack.sh): ${sys:kafka.logs.dir}/server.log
name = embedstream-kafka
status = warn
appender.server.type = RollingFile
appender.server.name = server
appender.server.fileName = ${sys:kafka.logs.dir}/server.log
appender.server.filePattern = ${sys:kafka.logs.dir}/server.log.%i
appender.server.layout.type = PatternLayout
appender.server.layout.pattern = [%d] %p %m (%c)%n
appender.server.policies.type = Policies
appender.server.policies.size.type = SizeBasedTriggeringPolicy
appender.server.policies.size.size = 50MB
appender.server.strategy.type = DefaultRolloverStrategy
appender.server.strategy.max = 3
rootLogger.level = INFO
rootLogger.appenderRef.server.ref = server
logger.request.name = kafka.request.logger
logger.request.level = WARN
logger.statechange.name = state.change.logger
logger.statechange.level = WARN
EOF
  cat >"$home/config/tools-log4j2.properties" <<'EOF'
# Kafka command line tools (written by scripts/lib/stack.sh): warnings to stderr
name = embedstream-kafka-tools
status = warn
appender.stderr.type = Console
appender.stderr.name = stderr
appender.stderr.target = SYSTEM_ERR
appender.stderr.layout.type = PatternLayout
appender.stderr.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = WARN
rootLogger.appenderRef.stderr.ref = stderr
EOF
}

stack_kafka_tool() {
  local home=$1
  shift
  timeout 60 "${JAVA_HOME:+$JAVA_HOME/bin/}java" -Xmx256m -XX:TieredStopAtLevel=1 \
    -Dlog4j2.configurationFile="$home/config/tools-log4j2.properties" -cp "$home/libs/*" "$@"
}

_stack_kafka_ready() {
  stack_port_open "$2" &&
    stack_kafka_tool "$1" org.apache.kafka.tools.TopicCommand --bootstrap-server "127.0.0.1:$2" --list
}

stack_start_kafka() {
  local home=$1 dir=$2 port=$3 rc=0 cport cluster_id
  _stack_claim kafka "$dir" "$port" 'kafka\.Kafka' TERM || rc=$?
  case $rc in 0) ;; 3) return 0 ;; *) return 1 ;; esac
  [[ -f $home/libs/.complete ]] || { stack_err "no Kafka jars in $home/libs (stack_install_kafka $home)"; return 1; }
  home=$(_stack_abs "$home") && dir=$(_stack_abs "$dir") || return 1
  cport=$(stack_free_port 1)
  while [[ $cport == "$port" ]]; do cport=$(stack_free_port 1); done
  mkdir -p "$dir/data" "$dir/logs"
  cat >"$dir/server.properties" <<EOF
# KRaft combined broker+controller (written by scripts/lib/stack.sh)
node.id=1
process.roles=broker,controller
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$port
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
controller.quorum.voters=1@127.0.0.1:$cport
log.dirs=$dir/data
num.partitions=2
auto.create.topics.enable=true
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
EOF
  if [[ ! -f $dir/data/meta.properties ]]; then
    stack_log "formatting Kafka storage in $dir/data"
    if ! cluster_id=$(stack_kafka_tool "$home" kafka.tools.StorageTool random-uuid) ||
      ! stack_kafka_tool "$home" kafka.tools.StorageTool format --ignore-formatted \
        -t "$cluster_id" -c "$dir/server.properties" >>"$dir/logs/kafka.log" 2>&1; then
      stack_err "formatting Kafka storage failed"
      _stack_tail_logs "$dir"
      return 1
    fi
  fi
  stack_log "starting Kafka on 127.0.0.1:$port (controller 127.0.0.1:$cport, logs in $dir/logs)"
  stack_spawn kafka "$dir" TERM "${JAVA_HOME:+$JAVA_HOME/bin/}java" -Xmx512m -Djava.awt.headless=true \
    -Dkafka.logs.dir="$dir/logs" -Dlog4j2.configurationFile="$home/config/log4j2.properties" \
    -cp "$home/libs/*" kafka.Kafka "$dir/server.properties" || return 1
  stack_wait_for kafka "$dir" "${STACK_KAFKA_START_TIMEOUT:-90}" _stack_kafka_ready "$home" "$port"
}

# The documents topic is compacted (DESIGN section 2): replaying it from the earliest offset yields
# the current corpus, which a model migration's backfill job relies on. A topic created before its
# configs were given here (a kept .local/kafka-data) gets them too, so an old stack is brought up to
# date instead of silently replaying a topic that retention has cut.
stack_create_topics() {
  local home=$1 bootstrap=$2 partitions=$3 spec topic configs one pid rc=0
  shift 3
  local -a pids=() create
  stack_log "creating topics on $bootstrap ($partitions partitions): $*"
  for spec in "$@"; do
    topic=${spec%%:*} configs=""
    [[ $spec != *:* ]] || configs=${spec#*:}
    create=(--create --if-not-exists --topic "$topic" --partitions "$partitions" --replication-factor 1)
    if [[ -n $configs ]]; then
      local -a each
      IFS=, read -r -a each <<<"$configs"
      for one in "${each[@]}"; do create+=(--config "$one"); done
      (stack_kafka_tool "$home" org.apache.kafka.tools.TopicCommand --bootstrap-server "$bootstrap" "${create[@]}" >/dev/null &&
        stack_kafka_tool "$home" kafka.admin.ConfigCommand --bootstrap-server "$bootstrap" --alter \
          --entity-type topics --entity-name "$topic" --add-config "$configs" >/dev/null) &
    else
      stack_kafka_tool "$home" org.apache.kafka.tools.TopicCommand --bootstrap-server "$bootstrap" "${create[@]}" >/dev/null &
    fi
    pids+=("$!")
  done
  for pid in "${pids[@]}"; do
    wait "$pid" || rc=1
  done
  ((rc == 0)) || stack_err "creating topics on $bootstrap failed"
  return "$rc"
}

# ---------------------------------------------------------------- Milvus Lite

stack_install_milvus() {
  local venv=$1
  if [[ -x $venv/bin/milvus-lite ]] && "$venv/bin/python" -c 'import milvus_lite, pymilvus' 2>/dev/null; then
    stack_log "Milvus Lite already installed in $venv"
    return 0
  fi
  stack_log "installing Milvus Lite into $venv (${STACK_MILVUS_PIP:-milvus-lite==3.2.2 pymilvus==3.0.2})"
  python3 -m venv "$venv" || { stack_err "python3 -m venv $venv failed (Debian: apt-get install python3-venv)"; return 1; }
  # shellcheck disable=SC2086 # word splitting of the spec list is intended
  "$venv/bin/pip" install -q --disable-pip-version-check ${STACK_MILVUS_PIP:-milvus-lite==3.2.2 pymilvus==3.0.2} ||
    { stack_err "pip install of Milvus Lite into $venv failed"; return 1; }
  [[ -x $venv/bin/milvus-lite ]] || { stack_err "$venv/bin/milvus-lite missing after install (milvus-lite >= 3 needed)"; return 1; }
}

stack_milvus_ping() {
  stack_port_open "$2" || return 1
  timeout 30 "$1/bin/python" - "$2" <<'EOF'
import sys
from pymilvus import MilvusClient
client = MilvusClient(uri=f"http://127.0.0.1:{sys.argv[1]}", timeout=10)
client.list_collections()
client.close()
EOF
}

stack_start_milvus() {
  local venv=$1 dir=$2 port=$3 rc=0
  _stack_claim milvus "$dir" "$port" 'milvus-lite server' INT || rc=$?
  case $rc in 0) ;; 3) return 0 ;; *) return 1 ;; esac
  [[ -x $venv/bin/milvus-lite ]] || { stack_err "no $venv/bin/milvus-lite (stack_install_milvus $venv)"; return 1; }
  venv=$(_stack_abs "$venv") && dir=$(_stack_abs "$dir") || return 1
  mkdir -p "$dir/data"
  stack_log "starting Milvus Lite on 127.0.0.1:$port (data in $dir/data, logs in $dir/logs)"
  stack_spawn milvus "$dir" INT env PYTHONUNBUFFERED=1 "$venv/bin/milvus-lite" server \
    --data-dir "$dir/data" --host 127.0.0.1 --port "$port" || return 1
  stack_wait_for milvus "$dir" "${STACK_MILVUS_START_TIMEOUT:-60}" stack_milvus_ping "$venv" "$port"
}

# ---------------------------------------------------------------- Redis

# Installs Debian package PKG with apt-get when command CMD is missing (as root, or through sudo).
stack_apt_install() {
  local pkg=$1 cmd=$2
  command -v "$cmd" >/dev/null && return 0
  local -a sudo=()
  if ((EUID != 0)); then
    command -v sudo >/dev/null ||
      { stack_err "$cmd is not installed and this is not root (no sudo): apt-get install $pkg"; return 1; }
    sudo=(sudo)
  fi
  stack_log "$cmd not found: installing $pkg with apt-get"
  if [[ -z ${STACK_APT_UPDATED:-} ]]; then
    "${sudo[@]}" apt-get update -qq || { stack_err "apt-get update failed"; return 1; }
    STACK_APT_UPDATED=1
  fi
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$pkg" >/dev/null ||
    { stack_err "apt-get install $pkg failed"; return 1; }
}

stack_install_redis() { stack_apt_install redis-server redis-server; }

stack_redis_ping() {
  local reply
  reply=$(timeout 3 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$0" && printf "PING\r\n" >&3 && IFS= read -r line <&3 && printf %s "$line"' "$1" 2>/dev/null) ||
    return 1
  [[ $reply == +PONG* ]]
}

stack_start_redis() {
  local dir=$1 port=$2 rc=0
  _stack_claim redis "$dir" "$port" 'redis-server' TERM || rc=$?
  case $rc in 0) ;; 3) return 0 ;; *) return 1 ;; esac
  command -v redis-server >/dev/null || { stack_err "redis-server is not installed (stack_install_redis)"; return 1; }
  dir=$(_stack_abs "$dir") || return 1
  stack_log "starting Redis on 127.0.0.1:$port (logs in $dir/logs)"
  stack_spawn redis "$dir" TERM redis-server --port "$port" --bind 127.0.0.1 --save '' \
    --appendonly no --daemonize no --dir "$dir" || return 1
  stack_wait_for redis "$dir" 20 stack_redis_ping "$port"
}

stack_build_job() {
  local root=$1 cpfile=$2 jar="$1/jobs/target/embedstream-job.jar"
  if [[ -f $jar && -s $cpfile && ! $jar -nt $cpfile ]] && [[ -z $(cd "$root" && find common/src jobs/src \
    pom.xml common/pom.xml jobs/pom.xml -newer "$jar" -print -quit 2>/dev/null) ]]; then
    return 0
  fi
  stack_log "building the job (mvn -DskipTests package) and writing its Flink runtime classpath to $cpfile..."
  mkdir -p "$(dirname "$cpfile")"
  # One reactor run for both goals: embedstream-common is resolved from this build, so it need
  # not be installed in ~/.m2 (a goal run alone would look for it there, and fail on a fresh
  # machine). Each module writes the classpath file; jobs comes last, so its list stays.
  # Scope compile is compile + provided: Flink, the model jars, and what the job jar leaves to
  # Flink's lib/ (commons-lang3, snappy, ...: jobs/pom.xml).
  (cd "$root" && mvn -B -ntp -q -DskipTests -pl jobs -am package dependency:build-classpath \
    -Dmdep.includeScope=compile -Dmdep.outputFile="$cpfile") || { stack_err "the build failed"; return 1; }
  [[ -f $jar ]] || { stack_err "the build did not produce $jar"; return 1; }
  [[ -s $cpfile ]] || { stack_err "the build did not write $cpfile"; return 1; }
  touch "$cpfile" # newer than the jar: the next run skips the build
}

stack_cleanup_on_exit() {
  _STACK_CLEANUP_DIR=${1:-}
  trap _stack_cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
}

# shellcheck disable=SC2317 # invoked by the traps of stack_cleanup_on_exit
_stack_cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  stack_stop_all
  [[ -z $_STACK_CLEANUP_DIR ]] || rm -rf "$_STACK_CLEANUP_DIR"
  exit "$rc"
}

# ---------------------------------------------------------------- Flink standalone cluster

stack_install_flink() {
  local home
  home=$(_stack_abs "$1") || return 1
  _stack_fetch_jars "Flink cluster" flink "$home/lib"
}

# The JVM options (line 1) and dynamic configuration (line 2) that Flink's bin/jobmanager.sh and
# bin/taskmanager.sh derive from the memory settings, computed by the same BashJavaUtils.
_stack_flink_resource_params() {
  local kind=$1 dir=$2 out
  shift 2
  out=$(timeout 60 "${JAVA_HOME:+$JAVA_HOME/bin/}java" -Xmx128m -cp "$dir/lib/*" \
    org.apache.flink.runtime.util.bash.BashJavaUtils "GET_${kind}_RESOURCE_PARAMS" --configDir "$dir/conf" "$@" 2>&1) ||
    { printf '%s\n' "$out" >&2; stack_err "BashJavaUtils GET_${kind}_RESOURCE_PARAMS failed"; return 1; }
  local jvm dynamic
  jvm=$(printf '%s\n' "$out" | sed -n 's/^.*BASH_JAVA_UTILS_EXEC_RESULT:\(-X.*\)$/\1/p')
  dynamic=$(printf '%s\n' "$out" | sed -n 's/^.*BASH_JAVA_UTILS_EXEC_RESULT:\(-D .*\)$/\1/p')
  if [[ $jvm != *-Xmx* || -z $dynamic ]]; then
    printf '%s\n' "$out" >&2
    stack_err "no JVM options and dynamic properties in the output of BashJavaUtils GET_${kind}_RESOURCE_PARAMS"
    return 1
  fi
  printf '%s\n%s\n' "$jvm" "$dynamic"
}

_stack_flink_ready() {
  curl -fsS --max-time 3 "http://127.0.0.1:$1/taskmanagers" | grep -q '"taskmanagers":\[{'
}

# stack_start_flink HOME DIR REST_PORT: a standalone session cluster on 127.0.0.1, a JobManager and
# one TaskManager in separate JVMs started like bin/jobmanager.sh and bin/taskmanager.sh do. Its
# configuration is flink-conf/config.yaml with addresses, ports and directories overridden for
# this machine (DIR/checkpoints, DIR/savepoints); its classpath is DIR/lib: HOME/lib linked in,
# plus whatever the caller put there before (the job jar, see docs/operations.md "Submitting"). Every
# KEY=VALUE after REST_PORT overrides the configuration of both JVMs (e.g. web.submit.enable=true).
# Bound to 127.0.0.1: RPC, blob server, data port and REST. Flink's own Prometheus reporter serves
# on every interface (it has no host option): a caller with the job jar in DIR/lib passes
# metrics.reporter.prom.factory.class=dev.embedstream.jobs.metrics.LoopbackPrometheusReporterFactory.
stack_start_flink() {
  local home=$1 dir=$2 port=$3 jm_params tm_params rpc jm_prom tm_prom kv
  shift 3
  home=$(_stack_abs "$home") && dir=$(_stack_abs "$dir") || return 1
  [[ -f $home/lib/.complete ]] || { stack_err "no Flink jars in $home/lib (stack_install_flink $home)"; return 1; }
  if stack_port_open "$port"; then
    stack_err "port $port on 127.0.0.1 is already in use; the Flink REST endpoint needs it"
    return 1
  fi
  mkdir -p "$dir/lib" "$dir/conf" "$dir/logs" "$dir/tmp" "$dir/checkpoints" "$dir/savepoints"
  ln -sf "$home"/lib/*.jar "$dir/lib/"
  cp "$(dirname "${BASH_SOURCE[0]}")/../../flink-conf/config.yaml" "$dir/conf/config.yaml"
  cat >"$dir/conf/log4j2.properties" <<'LOG'
# Flink process logging (written by scripts/lib/stack.sh): ${sys:log.file}
status = warn
appender.file.type = File
appender.file.name = file
appender.file.fileName = ${sys:log.file}
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = %d{HH:mm:ss,SSS} %-5p %-60c %x - %m%n
rootLogger.level = INFO
rootLogger.appenderRef.file.ref = file
LOG
  local -a java_opts=()
  read -r -a java_opts <<<"$(sed -n 's/^env\.java\.opts\.all: *"\{0,1\}\([^"]*\)"\{0,1\} *$/\1/p' "$dir/conf/config.yaml")"
  read -r rpc jm_prom tm_prom <<<"$(stack_free_port 3)"
  local -a dyn=(
    -D jobmanager.rpc.address=127.0.0.1 -D jobmanager.bind-host=127.0.0.1 -D "jobmanager.rpc.port=$rpc"
    -D rest.address=127.0.0.1 -D rest.bind-address=127.0.0.1 -D "rest.port=$port"
    -D taskmanager.host=127.0.0.1 -D taskmanager.bind-host=127.0.0.1
    -D "io.tmp.dirs=$dir/tmp" -D "web.tmpdir=$dir/tmp"
    -D "execution.checkpointing.dir=file://$dir/checkpoints"
    -D "execution.checkpointing.savepoint-dir=file://$dir/savepoints")
  for kv in "$@"; do
    [[ $kv == ?*=* ]] || { stack_err "stack_start_flink: '$kv' is not KEY=VALUE"; return 1; }
    dyn+=(-D "$kv")
  done
  jm_params=$(_stack_flink_resource_params JM "$dir" "${dyn[@]}") || return 1
  tm_params=$(_stack_flink_resource_params TM "$dir" "${dyn[@]}") || return 1
  stack_log "starting a Flink JobManager (REST http://127.0.0.1:$port) and TaskManager (logs in $dir/logs)"
  # shellcheck disable=SC2046 # the JVM options and dynamic properties are word lists
  stack_spawn flink-jobmanager "$dir" TERM "${JAVA_HOME:+$JAVA_HOME/bin/}java" $(sed -n 1p <<<"$jm_params") ${java_opts[@]+"${java_opts[@]}"} \
    -Dlog.file="$dir/logs/jobmanager.log" -Dlog4j.configurationFile="$dir/conf/log4j2.properties" \
    -cp "$dir/lib/*" org.apache.flink.runtime.entrypoint.StandaloneSessionClusterEntrypoint \
    --configDir "$dir/conf" "${dyn[@]}" -D "metrics.reporter.prom.port=$jm_prom" $(sed -n 2p <<<"$jm_params") || return 1
  # shellcheck disable=SC2046
  stack_spawn flink-taskmanager "$dir" TERM "${JAVA_HOME:+$JAVA_HOME/bin/}java" $(sed -n 1p <<<"$tm_params") ${java_opts[@]+"${java_opts[@]}"} \
    -Dlog.file="$dir/logs/taskmanager.log" -Dlog4j.configurationFile="$dir/conf/log4j2.properties" \
    -cp "$dir/lib/*" org.apache.flink.runtime.taskexecutor.TaskManagerRunner \
    --configDir "$dir/conf" "${dyn[@]}" -D "metrics.reporter.prom.port=$tm_prom" $(sed -n 2p <<<"$tm_params") || return 1
  # The REST endpoint lists a TaskManager only once it registered with the JobManager.
  stack_wait_for flink-jobmanager "$dir" "${STACK_FLINK_START_TIMEOUT:-120}" _stack_flink_ready "$port" || return 1
  if ! stack_pid_alive "$dir/flink-taskmanager.pid"; then
    stack_err "the Flink TaskManager exited (logs in $dir/logs)"
    _stack_tail_logs "$dir"
    return 1
  fi
}
