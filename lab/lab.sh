#!/usr/bin/env bash
# The upnpy test LAN: real UPnP daemons in network namespaces joined by a bridge.
#
#   lab/lab.sh packages            install the Debian packages the lab needs (if missing)
#   lab/lab.sh up                  build a lab, print its folder (holds lab.env and the logs)
#   lab/lab.sh down DIR            stop its daemons, delete its namespaces
#   lab/lab.sh exec DIR CMD...     run CMD inside the lab's client namespace, with lab.env exported
#   lab/lab.sh run CMD...          up, exec CMD, down (also on failure or Ctrl-C); CMD's exit status
#   lab/lab.sh clean               tear down every lab of this checkout (also ones in use)
#   lab/lab.sh restart DIR gw|dms  stop that daemon of the lab (if running), start it again as
#                                  `up` did, wait until it answers (for fault tests)
#
# Hosts on 10.77.0.0/24 (bridge br0 in namespace P-br), P a prefix unique to the run:
#   P-gw  10.77.0.1  miniupnpd 2.3.1, IGD:2, WAN wan0 11.22.33.44/24 <-> P-inet 11.22.33.1
#   P-cl  10.77.0.2  the client: the test process runs here
#   P-dms 10.77.0.3  minidlna 1.3.0 with a few generated WAV tracks
#   P-lt  10.77.0.4  GUPnP network-light (DimmableLight:1) under Xvfb
# With UPNPY_LAB_CROWD=N (0 by default, at most 150), `up` adds a crowd for discovery benchmarks:
#   P-c1..P-cN  10.77.0.101..  one minidlna each ("upnpy crowd I"), sharing a one-file media folder
# Nothing in these namespaces can reach the host's network: the only links are the veths
# created here. Facts behind every step: shared/LAB.md.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LABS=${UPNPY_LAB_HOME:-$HERE/../.lab}
NET=10.77.0
HOSTS="gw cl dms lt"
declare -A ADDR=([gw]=1 [cl]=2 [dms]=3 [lt]=4)
TRACKS=3
CROWD=${UPNPY_LAB_CROWD:-0}

log() { printf 'lab: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

need_root() {
    [ "$(id -u)" = 0 ] || die "building the lab needs root (ip netns)"
    command -v ip >/dev/null || die "iproute2 (ip) is missing"
}

cmd_packages() {
    local missing=""
    for bin in miniupnpd minidlnad gupnp-network-light gssdp-discover xvfb-run xauth upnpc nft ip curl; do
        command -v "$bin" >/dev/null 2>&1 || missing="$missing $bin"
    done
    [ -z "$missing" ] && return 0
    log "missing:$missing — installing the lab's Debian packages"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq miniupnpd miniupnpd-nftables nftables minidlna \
        gupnp-tools gssdp-tools xvfb xauth miniupnpc iproute2 curl >&2
}

# --- building -------------------------------------------------------------------------------

link_host() {  # link_host P NAME: veth from the bridge to namespace P-NAME, address, routes
    local p=$1 h=$2 ns=$1-$2
    ip netns add "$ns"
    ip -n "$p-br" link add "$p-$h" type veth peer name lan0 netns "$ns"
    ip -n "$p-br" link set "$p-$h" master br0 up
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.lan0.accept_dad=0 || true
    ip -n "$ns" addr add "$NET.${ADDR[$h]}/24" dev lan0
    ip -n "$ns" link set lo up
    ip -n "$ns" link set lan0 up
    ip -n "$ns" route add 239.0.0.0/8 dev lan0
}

start_gateway() {
    local p=$1 dir=$2
    ip netns add "$p-inet"
    ip -n "$p-gw" link add wan0 type veth peer name wan0 netns "$p-inet"
    ip -n "$p-gw" addr add 11.22.33.44/24 dev wan0
    ip -n "$p-inet" addr add 11.22.33.1/24 dev wan0
    ip -n "$p-gw" link set wan0 up
    ip -n "$p-inet" link set wan0 up
    ip -n "$p-inet" link set lo up
    ip -n "$p-gw" route add default via 11.22.33.1
    ip netns exec "$p-gw" sysctl -qw net.ipv4.ip_forward=1
    ip netns exec "$p-gw" nft -f - <<'EOF'
table inet filter {
    chain miniupnpd { }
    chain prerouting_miniupnpd { }
    chain postrouting_miniupnpd { }
    chain forward { type filter hook forward priority 0; policy accept; jump miniupnpd; }
    chain prerouting { type nat hook prerouting priority -100; policy accept; jump prerouting_miniupnpd; }
    chain postrouting { type nat hook postrouting priority 100; policy accept; jump postrouting_miniupnpd; }
}
EOF
    cat >"$dir/miniupnpd.conf" <<EOF
ext_ifname=wan0
listening_ip=lan0
port=5000
enable_upnp=yes
enable_natpmp=no
secure_mode=no
system_uptime=yes
uuid=$(cat /proc/sys/kernel/random/uuid)
friendly_name=upnpy lab gateway
allow 1024-65535 $NET.0/24 1-65535
deny 0-65535 0.0.0.0/0 0-65535
EOF
    run_gateway "$p" "$dir"
}

# The daemons `restart` can bring back run from these two functions only, so that a restart
# uses exactly the command line of the first start. A restart appends to the same log.
run_gateway() {  # run_gateway P DIR: miniupnpd in the background, in P-gw, configured by DIR
    local p=$1 dir=$2
    ip netns exec "$p-gw" miniupnpd -f "$dir/miniupnpd.conf" -d -P "$dir/miniupnpd.pid" \
        >>"$dir/miniupnpd.log" 2>&1 &
}

run_media_server() {  # run_media_server P DIR: minidlna in the background, in P-dms
    local p=$1 dir=$2
    ip netns exec "$p-dms" minidlnad -f "$dir/minidlna.conf" -d -P "$dir/minidlna.pid" \
        >>"$dir/minidlna.out" 2>&1 &
}

minidlna_conf() {  # minidlna_conf FILE MEDIA_DIR FRIENDLY_NAME DB_DIR LOG_DIR: one server's config
    printf '%s\n' "port=8200" "network_interface=lan0" "media_dir=A,$2" "friendly_name=$3" \
        "db_dir=$4" "log_dir=$5" "inotify=no" "uuid=$(cat /proc/sys/kernel/random/uuid)" >"$1"
}

start_media_server() {
    local p=$1 dir=$2
    mkdir -p "$dir/media" "$dir/minidlna-db"
    python3 - "$dir/media" "$TRACKS" <<'EOF'
import math, struct, sys, wave
folder, count = sys.argv[1], int(sys.argv[2])
for n in range(1, count + 1):
    with wave.open(f"{folder}/upnpy-track-{n}.wav", "wb") as w:
        w.setnchannels(1); w.setsampwidth(2); w.setframerate(8000)
        w.writeframes(b"".join(struct.pack("<h", int(8000 * math.sin(i * n / 10))) for i in range(4000)))
EOF
    minidlna_conf "$dir/minidlna.conf" "$dir/media" "upnpy lab media" "$dir/minidlna-db" "$dir"
    run_media_server "$p" "$dir"
}

start_light() {
    local p=$1 dir=$2
    mkdir -p "$dir/light-tmp"
    ip netns exec "$p-lt" env TMPDIR="$dir/light-tmp" xvfb-run -a \
        gupnp-network-light -i lan0 -n "upnpy lab light" --no-v6 -p 49200 \
        >"$dir/light.log" 2>&1 &
}

# The crowd: N more minidlna instances, each in a namespace of its own on the same bridge.
crowd_ips() {  # the crowd's addresses, space-separated
    local i
    for i in $(seq 1 "$CROWD"); do printf '%s ' "$NET.$((100 + i))"; done
}

start_crowd() {  # start_crowd P DIR: link every crowd host, then start all of their daemons
    local p=$1 dir=$2 i c
    [ "$CROWD" -gt 0 ] || return 0
    mkdir -p "$dir/crowd/media"
    python3 -c 'import sys, wave
with wave.open(sys.argv[1], "wb") as w:
    w.setnchannels(1); w.setsampwidth(2); w.setframerate(8000); w.writeframes(bytes(800))
' "$dir/crowd/media/crowd.wav"
    for i in $(seq 1 "$CROWD"); do
        ADDR[c$i]=$((100 + i))
        link_host "$p" "c$i"
    done
    for i in $(seq 1 "$CROWD"); do
        c=$dir/crowd/c$i
        mkdir -p "$c/db"
        minidlna_conf "$c/minidlna.conf" "$dir/crowd/media" "upnpy crowd $i" "$c/db" "$c"
        # -S: in the foreground without -d's debug chatter; its log goes to $c/minidlna.log.
        ip netns exec "$p-c$i" minidlnad -S -f "$c/minidlna.conf" -P "$c/minidlna.pid" \
            >"$c/minidlna.out" 2>&1 &
    done
}

# Wait until all three devices answer M-SEARCH in the client namespace; record the light's
# LOCATION (its UDN, and so its description path, is new at every start).
wait_ready() {
    local p=$1 dir=$2 seen="" i ip missing="" tries=$((15 + CROWD / 2))
    for i in $(seq 1 "$tries"); do
        seen="$seen $(ip netns exec "$p-cl" gssdp-discover -i lan0 -t upnp:rootdevice --timeout=3 2>/dev/null \
            | sed -n 's/^ *Location: *//p' | tr '\n' ' ')"
        missing=""
        for ip in $(crowd_ips); do
            grep -qF "http://$ip:8200/" <<<"$seen" || missing="$missing $ip"
        done
        if grep -q "$NET.1:5000/" <<<"$seen" && grep -q "$NET.3:8200/" <<<"$seen" \
            && grep -q "$NET.4:49200/" <<<"$seen" && [ -z "$missing" ]; then
            LIGHT_URL=$(tr ' ' '\n' <<<"$seen" | grep "$NET.4:49200/" | head -n 1)
            return 0
        fi
    done
    log "not every device answered M-SEARCH; seen:$seen"
    [ -z "$missing" ] || log "crowd hosts that never answered:$missing"
    return 1
}

cmd_up() {
    need_root
    cmd_packages
    cmd_clean stale
    mkdir -p "$LABS"
    local p dir
    case $CROWD in
        '' | *[!0-9]*) die "UPNPY_LAB_CROWD must be a number of hosts (0..150), not '$CROWD'" ;;
    esac
    CROWD=$((10#$CROWD))
    [ "$CROWD" -le 150 ] || die "UPNPY_LAB_CROWD=$CROWD: at most 150 crowd hosts (10.77.0.101..250)"
    p=u$(od -An -N3 -tx1 /dev/urandom | tr -d ' \n')
    dir=$(cd "$LABS" && pwd)/$p
    mkdir -p "$dir"
    [ -n "${LAB_OWNER:-}" ] && echo "$LAB_OWNER" >"$dir/owner"
    cat >"$dir/lab.env" <<EOF
UPNPY_LAB=$dir
UPNPY_LAB_PREFIX=$p
UPNPY_LAB_CLIENT_NS=$p-cl
UPNPY_LAB_GW_NS=$p-gw
UPNPY_LAB_CLIENT_IP=$NET.2
UPNPY_LAB_GW_IP=$NET.1
UPNPY_LAB_DMS_IP=$NET.3
UPNPY_LAB_LIGHT_IP=$NET.4
UPNPY_LAB_WAN_IP=11.22.33.44
UPNPY_LAB_GW_URL=http://$NET.1:5000/rootDesc.xml
UPNPY_LAB_DMS_URL=http://$NET.3:8200/rootDesc.xml
UPNPY_LAB_TRACKS=$TRACKS
UPNPY_LAB_CROWD=$CROWD
UPNPY_LAB_CROWD_IPS=$(crowd_ips | tr -s ' ' ',' | sed 's/,$//')
EOF
    log "building lab $p in $dir"
    if ! (
        set -e
        ip netns add "$p-br"
        ip -n "$p-br" link add br0 type bridge
        ip -n "$p-br" link set br0 up
        ip -n "$p-br" link set lo up
        for h in $HOSTS; do link_host "$p" "$h"; done
        start_gateway "$p" "$dir"
        start_media_server "$p" "$dir"
        start_light "$p" "$dir"
        start_crowd "$p" "$dir"
        wait_ready "$p" "$dir"
        echo "UPNPY_LAB_LIGHT_URL=$LIGHT_URL" >>"$dir/lab.env"
    ); then
        log "bring-up failed; daemon logs:"
        show_logs "$dir"
        cmd_down "$dir"
        exit 1
    fi
    [ "$CROWD" = 0 ] || log "crowd: $CROWD media servers at $NET.101..$NET.$((100 + CROWD))"
    log "lab $p ready (light at $(sed -n 's/^UPNPY_LAB_LIGHT_URL=//p' "$dir/lab.env"))"
    echo "$dir"
}

# --- tearing down ---------------------------------------------------------------------------

# stop_namespaces "SIGNALS" PAUSE NS...: send each signal in turn to every process still running
# in the namespaces (all at once), with PAUSE seconds between, until none is left.
stop_namespaces() {
    local signals=$1 pause=$2 sig ns pids
    shift 2
    for sig in $signals; do
        pids=""
        for ns in "$@"; do pids="$pids $(ip netns pids "$ns" 2>/dev/null || true)"; done
        [ -n "${pids// /}" ] || return 0
        # shellcheck disable=SC2086
        kill -"$sig" $pids 2>/dev/null || true
        sleep "$pause"
    done
}

kill_namespace_pids() {  # TERM, short waits, then KILL whatever still runs in namespace $1
    stop_namespaces "TERM TERM TERM TERM TERM KILL" 0.3 "$1"
}

# The crowd's namespaces (P-c1, P-c2, ...), found by name so that a half-built crowd goes too:
# TERM to all of their processes at once, short waits, KILL for what is left, then delete them.
kill_crowd() {
    local p=$1 crowd ns
    crowd=$(ip netns list 2>/dev/null | awk '{print $1}' | grep -E "^$p-c[0-9]+\$" || true)
    [ -n "$crowd" ] || return 0
    # shellcheck disable=SC2086
    stop_namespaces "TERM TERM TERM TERM TERM TERM TERM TERM TERM TERM KILL" 0.2 $crowd
    for ns in $crowd; do ip netns del "$ns" 2>/dev/null || true; done
}

cmd_down() {
    local dir=${1:?usage: lab.sh down DIR} p
    p=$(basename "$dir")
    [ -f "$dir/lab.env" ] || die "$dir is not a lab folder"
    # The light before its xvfb-run, so that xvfb-run can clean up its display.
    for pid in $(ip netns pids "$p-lt" 2>/dev/null || true); do
        [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = gupnp-network-l ] && kill "$pid" 2>/dev/null || true
    done
    for ns in lt dms gw cl inet br; do kill_namespace_pids "$p-$ns"; done
    kill_crowd "$p"
    for ns in lt dms gw cl inet br; do ip netns del "$p-$ns" 2>/dev/null || true; done
    log "lab $p torn down (logs kept in $dir)"
}

# Leftovers: labs of this checkout whose namespaces still exist. With "stale" only those made
# by a `run` whose process is gone (a killed test run); labs made by `up` are yours to `down`.
cmd_clean() {
    [ -d "$LABS" ] || return 0
    local dir owner
    for dir in "$LABS"/u*/; do
        [ -f "$dir/lab.env" ] || continue
        ip netns list 2>/dev/null | grep -q "^$(basename "$dir")-" || continue
        if [ "${1:-}" = stale ]; then
            owner=$(cat "$dir/owner" 2>/dev/null || true)
            [ -n "$owner" ] && ! kill -0 "$owner" 2>/dev/null || continue
        fi
        log "removing leftover lab $(basename "$dir")"
        cmd_down "${dir%/}"
    done
}

show_logs() {
    local dir=$1 f
    for f in "$dir"/miniupnpd.log "$dir"/minidlna.log "$dir"/minidlna.out "$dir"/light.log; do
        [ -f "$f" ] || continue
        echo "----- $f (last 15 lines)" >&2
        grep -v -e 'netlink' -e 'recv' "$f" | tail -n 15 >&2 || true
    done
}

# --- using ----------------------------------------------------------------------------------

cmd_exec() {
    local dir=${1:?usage: lab.sh exec DIR CMD...}
    shift
    [ -f "$dir/lab.env" ] || die "$dir is not a lab folder"
    local ns
    ns=$(sed -n 's/^UPNPY_LAB_CLIENT_NS=//p' "$dir/lab.env")
    # shellcheck disable=SC2046
    ip netns exec "$ns" env $(cat "$dir/lab.env") "$@"
}

# stop_daemon NS COMM: TERM (and CONT, should it be frozen) every COMM process in namespace NS,
# short waits, then KILL; return once none is left.
stop_daemon() {
    local ns=$1 comm=$2 sig pid pids
    for sig in TERM TERM TERM TERM TERM TERM TERM TERM TERM TERM KILL KILL KILL; do
        pids=""
        for pid in $(ip netns pids "$ns" 2>/dev/null || true); do
            if [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$comm" ]; then pids="$pids $pid"; fi
        done
        [ -n "$pids" ] || return 0
        # shellcheck disable=SC2086
        kill -"$sig" $pids 2>/dev/null || true
        # shellcheck disable=SC2086
        [ "$sig" = KILL ] || kill -CONT $pids 2>/dev/null || true
        sleep 0.2
    done
    die "$comm in $ns does not stop"
}

# Restart the gateway (gw) or the media server (dms) of a running lab, exactly as `up` started
# it (same config, pid file and log, appended to); then wait until its description answers,
# fetched from the lab's client namespace. miniupnpd leaves the nftables chains in place. The
# light cannot come back this way: it gets a new description URL at every start.
cmd_restart() {
    local dir=${1:?usage: lab.sh restart DIR gw|dms} daemon=${2:-} p ns comm pidfile url
    [ -f "$dir/lab.env" ] || die "$dir is not a lab folder"
    dir=$(cd "$dir" && pwd)
    p=$(basename "$dir")
    case $daemon in
        gw) comm=miniupnpd pidfile=$dir/miniupnpd.pid url=http://$NET.${ADDR[gw]}:5000/rootDesc.xml ;;
        dms) comm=minidlnad pidfile=$dir/minidlna.pid url=http://$NET.${ADDR[dms]}:8200/rootDesc.xml ;;
        *) die "usage: lab.sh restart DIR gw|dms" ;;
    esac
    ns=$p-$daemon
    ip netns pids "$ns" >/dev/null 2>&1 || die "lab $p has no namespace $ns"
    stop_daemon "$ns" "$comm"
    rm -f "$pidfile"  # left behind by a killed daemon: both refuse to start while its pid lives
    case $daemon in
        gw) run_gateway "$p" "$dir" ;;
        dms) run_media_server "$p" "$dir" ;;
    esac
    for _ in $(seq 1 150); do
        ip netns exec "$p-cl" curl -sf -o /dev/null --max-time 1 "$url" && return 0
        sleep 0.1
    done
    die "$comm did not answer $url within 15 s of its restart"
}

RUN_DIR=""
cmd_run() {
    local status=0
    trap '[ -n "$RUN_DIR" ] && cmd_down "$RUN_DIR"' EXIT
    trap 'exit 130' INT TERM
    RUN_DIR=$(LAB_OWNER=$$ cmd_up)
    cmd_exec "$RUN_DIR" "$@" || status=$?
    [ "$status" = 0 ] || show_logs "$RUN_DIR"
    return "$status"
}

case ${1:-} in
    packages) need_root; cmd_packages ;;
    up) cmd_up ;;
    down) need_root; cmd_down "${2:-}" ;;
    exec) shift; cmd_exec "$@" ;;
    run) shift; cmd_run "$@" ;;
    clean) need_root; cmd_clean ;;
    restart) need_root; shift; cmd_restart "$@" ;;
    *) sed -n '2,11p' "$0" >&2; exit 2 ;;
esac
