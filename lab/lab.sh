#!/usr/bin/env bash
# The upnpy test LAN: real UPnP daemons in network namespaces joined by a bridge.
#
#   lab/lab.sh packages            install the Debian packages the lab needs (if missing)
#   lab/lab.sh up                  build a lab, print its folder (holds lab.env and the logs)
#   lab/lab.sh down DIR            stop its daemons, delete its namespaces
#   lab/lab.sh exec DIR CMD...     run CMD inside the lab's client namespace, with lab.env exported
#   lab/lab.sh run CMD...          up, exec CMD, down (also on failure or Ctrl-C); CMD's exit status
#   lab/lab.sh clean               tear down every lab of this checkout (also ones in use)
#   lab/lab.sh restart DIR gw|gw2|dms|dmr  stop that daemon of the lab (if running), start it
#                                  again as `up` did, wait until it answers (for fault tests)
#   lab/lab.sh start DIR gw|gw2|dms|dmr    start that daemon unless it runs; wait till it answers
#   lab/lab.sh stop DIR gw|gw2|dms|dmr     stop that daemon (gw2's and dmr's on-demand life)
#
# Hosts on 10.77.0.0/24 (bridge br0 in namespace P-br), P a prefix unique to the run:
#   P-gw  10.77.0.1  miniupnpd 2.3.1, IGD:2, WAN wan0 11.22.33.44/24 <-> P-inet 11.22.33.1
#   P-cl  10.77.0.2  the client: the test process runs here; default route via P-gw
#   P-dms 10.77.0.3  minidlna 1.3.0 with a few generated WAV tracks
#   P-lt  10.77.0.4  GUPnP network-light (DimmableLight:1) under Xvfb
#   P-gw2 10.77.0.5  a second miniupnpd, IGD:1 (force_igd_desc_v1), behind carrier-grade NAT:
#                    WAN wan0 100.64.0.2/24 <-> P-cgn 100.64.0.1 (the carrier). Observed: it
#                    says Connected, ExternalIPAddress "" (empty), and refuses AddPortMapping
#                    with 501 ActionFailed (details at build_gateway2).
#                    Built at every `up`, but its miniupnpd runs only on demand (`start`/`stop`;
#                    in the tests `with lab.running("gw2"):`), so that a discovery of "every
#                    device" still finds three; with UPNPY_LAB_GW2=1 it runs from `up` on.
#   P-dmr 10.77.0.8  gmediarender 0.1, MediaRenderer:1 "Lab Renderer" (AVTransport,
#                    RenderingControl, ConnectionManager), GStreamer into fakesinks, playing in
#                    real time; http://10.77.0.8:49494/description.xml. Built at every `up`, run
#                    on demand like P-gw2 (`start`/`stop`, `with lab.running("dmr"):`); with
#                    UPNPY_LAB_DMR=1 it runs from `up` on. Observed: see run_renderer.
# P-dms also serves a 60 s silent track "upnpy-long" (UPNPY_LAB_LONG_TRACK) for playback tests.
# The first gateway forwards a mapped port end to end: a TCP connect from P-inet to
# 11.22.33.44:<external port> reaches <client>:<internal port> with source 11.22.33.1 (its
# nftables `forward` chain accepts established/related traffic and miniupnpd's mapped ports;
# a new connection from the LAN to the WAN side is refused at once, net unreachable, as it was
# before the client had a default route).
# With UPNPY_LAB_CROWD=N (0 by default, at most 150), `up` adds a crowd for discovery benchmarks:
#   P-c1..P-cN  10.77.0.101..  one minidlna each ("upnpy crowd I"), sharing a one-file media folder
# Emulated devices (lab/responder.py, started by tests and the bench, never by `up`):
#   P-emu   10.77.0.6  empty at `up` (so that a discovery of "every device" still finds three)
#   P-crowd 10.77.0.7  plus a pool of UPNPY_LAB_EMU_CROWD (default 2000) /32s, 10.77.16.1,
#                      .2 .. .254, 10.77.17.1 ... (listed in DIR/emu-crowd.txt), which the client
#                      reaches via 10.77.0.7 (route 10.77.16.0/20): one neighbour entry, not 2000
#                      (gc_thresh3 is 1024 and not the namespace's own). One responder serves
#                      2000 of them under `ulimit -n 1024` (tests/interop/test_responder.py).
# IPv6 (lab's notes; tests/interop/test_lab.py checks the first two points): every host also
# has fd77::N/64 (N = its IPv4 last octet; `nodad`, accept_dad=0) besides its fe80:: address.
#   - miniupnpd (listening_ip=lan0: an interface name enables IPv6) answers an M-SEARCH to
#     [ff02::c]:1900 from its fe80:: address and to [ff05::c] from fd77::1, both with LOCATION
#     http://[fd77::1]:5000/rootDesc.xml; description and SOAP (/ctl/IPConn) work there. Its
#     description's presentationURL stays http://10.77.0.1/.
#   - The GUPnP light (no --no-v6) has one context per address: on ff02::c it answers from and
#     with its link-local address, no zone: http://[fe80::...]:49200/<UDN>.xml; on ff05::c with
#     http://[fd77::4]:49200/<UDN>.xml. Same UDN and path as over IPv4; description and SOAP
#     (/SwitchPower/Control) work on both. Fetching the link-local one needs the scope id on the
#     socket, and its Host header must carry no raw zone: `Host: [fe80::..%lan0]` gets 400 Bad
#     Request (urllib sends that), `[fe80::..]` or RFC 6874's `[fe80::..%25lan0]` get 200.
#   - minidlna 1.3.0 has no IPv6 at all (HTTP 0.0.0.0:8200, SSDP 239.255.255.250 only): silent
#     on ff02::c/ff05::c, and http://[fd77::3]:8200/ is refused.
#   - lab/responder.py is IPv4 only.
# Nothing in these namespaces can reach the host's network: the only links are the veths
# created here. Facts behind every step: shared/LAB.md.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LABS=${UPNPY_LAB_HOME:-$HERE/../.lab}
NET=10.77.0
HOSTS="gw cl dms lt gw2 emu crowd dmr"
declare -A ADDR=([gw]=1 [cl]=2 [dms]=3 [lt]=4 [gw2]=5 [emu]=6 [crowd]=7 [dmr]=8)
NET6=fd77:  # the LAN's IPv6 ULA prefix (fd77::/64): host N has fd77::N as well as 10.77.0.N
# The emulated crowd's address pool (lab/responder.py in P-crowd): /32s in 10.77.16.0/20,
# routed from the client via P-crowd's 10.77.0.7, so that the client keeps one neighbour entry.
EMU_CROWD_NET=10.77.16.0/20
WAN_IP=11.22.33.44 INET_IP=11.22.33.1   # the first gateway's WAN link, to P-inet
GW2_WAN_IP=100.64.0.2 CGN_IP=100.64.0.1  # the second gateway's, to P-cgn (carrier-grade NAT)
TRACKS=3
LONG_TRACK=upnpy-long  # a 60 s silent track besides the TRACKS short ones (playback tests)
DMR_PORT=49494 DMR_NAME="Lab Renderer"
CROWD=${UPNPY_LAB_CROWD:-0}
EMU_CROWD=${UPNPY_LAB_EMU_CROWD:-2000}  # addresses in P-crowd's pool (0..4000)
GW2=${UPNPY_LAB_GW2:-0}  # 1: the second gateway's miniupnpd runs from `up` on
DMR=${UPNPY_LAB_DMR:-0}  # 1: the renderer (gmediarender) runs from `up` on
IGD1=urn:schemas-upnp-org:device:InternetGatewayDevice:1

log() { printf 'lab: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

need_root() {
    [ "$(id -u)" = 0 ] || die "building the lab needs root (ip netns)"
    command -v ip >/dev/null || die "iproute2 (ip) is missing"
}

cmd_packages() {
    local missing=""
    for bin in miniupnpd minidlnad gupnp-network-light gssdp-discover xvfb-run xauth upnpc nft ip curl \
        gmediarender; do
        command -v "$bin" >/dev/null 2>&1 || missing="$missing $bin"
    done
    # gmediarender's GStreamer elements (souphttpsrc, wavparse: -good; fakesink, audioconvert:
    # core and -base) come in packages without a command of their own.
    for pkg in gstreamer1.0-plugins-base gstreamer1.0-plugins-good; do
        [ "$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null)" = installed ] \
            || missing="$missing $pkg"
    done
    [ -z "$missing" ] && return 0
    log "missing:$missing — installing the lab's Debian packages"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq miniupnpd miniupnpd-nftables nftables minidlna \
        gupnp-tools gssdp-tools xvfb xauth miniupnpc iproute2 curl \
        gmediarender gstreamer1.0-plugins-base gstreamer1.0-plugins-good >&2
}

# --- building -------------------------------------------------------------------------------

link_host() {  # link_host P NAME: veth from the bridge to namespace P-NAME, address, routes
    local p=$1 h=$2 ns=$1-$2
    ip netns add "$ns"
    ip -n "$p-br" link add "$p-$h" type veth peer name lan0 netns "$ns"
    ip -n "$p-br" link set "$p-$h" master br0 up
    ip netns exec "$ns" sysctl -qw net.ipv6.conf.lan0.accept_dad=0 || true
    ip -n "$ns" addr add "$NET.${ADDR[$h]}/24" dev lan0
    ip -n "$ns" addr add "$NET6:${ADDR[$h]}/64" dev lan0 nodad
    ip -n "$ns" link set lo up
    ip -n "$ns" link set lan0 up
    ip -n "$ns" route add 239.0.0.0/8 dev lan0
}

# wire_gateway P HOST WAN_NS ADDRESS PEER: P-HOST's WAN veth wan0 (ADDRESS/24) to a namespace
# P-WAN_NS of its own (PEER/24), default route via PEER, forwarding on, and the nftables chains
# miniupnpd expects, in P-HOST's own namespace. `forward` drops by default; it accepts the
# replies of established connections and what miniupnpd accepts in its chain `miniupnpd` (the
# mapped ports, new connections only); anything else from the LAN gets "net unreachable" at once
# (no masquerading: the WAN side could not answer), as before the client had a default route.
wire_gateway() {
    local p=$1 h=$2 wan=$3 address=$4 peer=$5
    ip netns add "$p-$wan"
    ip -n "$p-$h" link add wan0 type veth peer name wan0 netns "$p-$wan"
    ip -n "$p-$h" addr add "$address/24" dev wan0
    ip -n "$p-$wan" addr add "$peer/24" dev wan0
    ip -n "$p-$h" link set wan0 up
    ip -n "$p-$wan" link set wan0 up
    ip -n "$p-$wan" link set lo up
    ip -n "$p-$h" route add default via "$peer"
    ip netns exec "$p-$h" sysctl -qw net.ipv4.ip_forward=1
    ip netns exec "$p-$h" nft -f - <<'EOF'
table inet filter {
    chain miniupnpd { }
    chain prerouting_miniupnpd { }
    chain postrouting_miniupnpd { }
    chain forward {
        type filter hook forward priority 0; policy drop;
        ct state established,related accept
        jump miniupnpd
        iifname "lan0" reject with icmpx type no-route
    }
    chain prerouting { type nat hook prerouting priority -100; policy accept; jump prerouting_miniupnpd; }
    chain postrouting { type nat hook postrouting priority 100; policy accept; jump postrouting_miniupnpd; }
}
EOF
}

gateway_conf() {  # gateway_conf FILE FRIENDLY_NAME [LINE...]: one miniupnpd's config
    local file=$1 name=$2
    shift 2
    printf '%s\n' "ext_ifname=wan0" "listening_ip=lan0" "port=5000" "enable_upnp=yes" \
        "enable_natpmp=no" "secure_mode=no" "system_uptime=yes" \
        "uuid=$(cat /proc/sys/kernel/random/uuid)" "friendly_name=$name" "$@" \
        "allow 1024-65535 $NET.0/24 1-65535" "deny 0-65535 0.0.0.0/0 0-65535" >"$file"
}

start_gateway() {
    local p=$1 dir=$2
    wire_gateway "$p" gw inet "$WAN_IP" "$INET_IP"
    gateway_conf "$dir/miniupnpd.conf" "upnpy lab gateway"
    run_gateway "$p" "$dir" gw
}

# The second gateway: IGD:1 behind carrier-grade NAT. Observed with miniupnpd 2.3.1 here
# (tests/interop/test_lab_gateways.py checks it): GetStatusInfo says Connected (ERROR_NONE);
# GetExternalIPAddress answers NewExternalIPAddress "" (empty, not its 100.64.0.2; its log:
# "private/reserved address 100.64.0.2 is not suitable for external IP"); AddPortMapping is
# refused with fault 501 ActionFailed whatever the lease (log at start: "Reserved / private IP
# address 100.64.0.2 on ext interface wan0: Port forwarding is impossible"), so
# GetGenericPortMappingEntry 0 is 713; `upnpc -a` says "failed with code 501 (Action Failed)".
# Its description is InternetGatewayDevice:1 / WANDevice:1 / WANConnectionDevice:1 /
# WANIPConnection:1 (control /ctl/IPConn), yet it answers M-SEARCHes for InternetGatewayDevice:2
# and WANIPConnection:2 as well. With both gateways up, `upnpc -m lan0` lists both and picks the
# first one (the one with an external address). Its own uuid, its own nftables chains.
build_gateway2() {
    local p=$1 dir=$2
    wire_gateway "$p" gw2 cgn "$GW2_WAN_IP" "$CGN_IP"
    gateway_conf "$dir/miniupnpd-gw2.conf" "upnpy lab cgnat gateway" "force_igd_desc_v1=yes"
    [ "$GW2" = 1 ] && run_gateway "$p" "$dir" gw2
    return 0
}

# The daemons `restart` can bring back run from these functions only, so that a restart
# uses exactly the command line of the first start. A restart appends to the same log.
gateway_files() {  # gateway_files DIR HOST: the path of HOST's miniupnpd files, less .conf/.pid/.log
    case $2 in
        gw) echo "$1/miniupnpd" ;;
        *) echo "$1/miniupnpd-$2" ;;
    esac
}

# miniupnpd logs each line to stderr (-d) and to syslog. With no /dev/log here, syslog(3)
# writes the line to /dev/console instead: about 1.2 ms a line, 5 ms a SOAP call, and text on
# the machine's console. In the mount namespace `ip netns exec` makes for it (its mounts reach
# nobody else), /dev/console is /dev/null; the lines stay in the log, from stderr.
run_gateway() {  # run_gateway P DIR HOST: miniupnpd in the background, in P-HOST, configured by DIR
    local p=$1 h=$3 f
    f=$(gateway_files "$2" "$h")
    # shellcheck disable=SC2016  # expanded by the inner shell
    ip netns exec "$p-$h" sh -c '
        mount --bind /dev/null /dev/console ||
            echo "lab: /dev/console stays: each log line of miniupnpd costs a console write" >&2
        exec miniupnpd -f "$1.conf" -d -P "$1.pid"' sh "$f" >>"$f.log" 2>&1 &
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
    # TRACKS half-second tones upnpy-track-N, and LONG_TRACK: 60 s of silence (960 kB), long
    # enough for a renderer to be seen playing, pausing and stopping. minidlna titles each one
    # after its file name.
    python3 - "$dir/media" "$TRACKS" "$LONG_TRACK" <<'EOF'
import math, struct, sys, wave
folder, count, long_track = sys.argv[1], int(sys.argv[2]), sys.argv[3]
for n in range(1, count + 1):
    with wave.open(f"{folder}/upnpy-track-{n}.wav", "wb") as w:
        w.setnchannels(1); w.setsampwidth(2); w.setframerate(8000)
        w.writeframes(b"".join(struct.pack("<h", int(8000 * math.sin(i * n / 10))) for i in range(4000)))
with wave.open(f"{folder}/{long_track}.wav", "wb") as w:
    w.setnchannels(1); w.setsampwidth(2); w.setframerate(8000)
    w.writeframes(bytes(2 * 8000 * 60))
EOF
    minidlna_conf "$dir/minidlna.conf" "$dir/media" "Lab Media Server" "$dir/minidlna-db" "$dir"
    run_media_server "$p" "$dir"
}

start_light() {
    local p=$1 dir=$2
    mkdir -p "$dir/light-tmp"
    ip netns exec "$p-lt" env TMPDIR="$dir/light-tmp" xvfb-run -a \
        gupnp-network-light -i lan0 -n "upnpy lab light" -p 49200 \
        >"$dir/light.log" 2>&1 &
}

# The renderer: gmediarender 0.1 (MediaRenderer:1) in P-dmr, GStreamer output into fakesinks (no
# sound card, no display); `sync=true` makes it play in real time, where a plain fakesink would
# swallow a whole track at once. Like the second gateway it is built at every `up` (its uuid
# chosen once, kept by restarts) but runs only on demand (`start`/`stop`; in the tests
# `with lab.running("dmr"):`), so that a discovery of "every device" still finds three; with
# UPNPY_LAB_DMR=1 it runs from `up` on. Its description: http://<dmr>:49494/description.xml.
build_renderer() {
    local p=$1 dir=$2
    mkdir -p "$dir/renderer-tmp"
    cat /proc/sys/kernel/random/uuid >"$dir/gmediarender.uuid"
    [ "$DMR" = 1 ] && run_renderer "$p" "$dir"
    return 0
}

run_renderer() {  # run_renderer P DIR: gmediarender in the background, in P-dmr
    local p=$1 dir=$2
    ip netns exec "$p-dmr" env TMPDIR="$dir/renderer-tmp" gmediarender -I lan0 -p "$DMR_PORT" \
        -u "$(cat "$dir/gmediarender.uuid")" -f "$DMR_NAME" \
        --gstout-audiopipe="fakesink sync=true" --gstout-videosink=fakesink \
        --logfile="$dir/gmediarender.log" >>"$dir/gmediarender.out" 2>&1 &
}

# Observed with gmediarender 0.1 (libupnp 1.8.4) here (tests/interop/test_renderer_lab.py):
# - It closes every connection right after its answer, but says so (CONNECTION: close) only on
#   GETs, not on SOAP answers: a keep-alive client that sends the next request at once can find
#   the socket closing under it (about one call in ten while it plays; the FIN comes ~0-1.5 ms
#   after the answer).
# - Play: PLAYING at once; TrackDuration 0:00:00 until GStreamer has read the header (~0.5 s);
#   RelTime moves after ~1.3 s. Stop keeps RelTime and the track. Pause when stopped: fault 501
#   "Transition to PAUSE not allowed; allowed=PLAY"; Play with no URI: 501 "Playing failed".
# - Volume 0..100 (starts at 100), VolumeDB -15360..0 (1/256 dB). Events: one LastChange each
#   for AVTransport and RenderingControl (all variables first, then the changes).
# - IPv4 only in practice: it listens on its fe80:: address too but answers no IPv6 M-SEARCH.
renderer_url() { echo "http://$NET.${ADDR[dmr]}:$DMR_PORT/description.xml"; }

# http_wait P URL SECONDS: return once a GET of URL from the client namespace succeeds; fail
# after SECONDS.
http_wait() {
    local p=$1 url=$2 deadline=$((SECONDS + $3))
    while [ "$SECONDS" -lt "$deadline" ]; do
        ip netns exec "$p-cl" curl -sf -o /dev/null --max-time 1 "$url" && return 0
        sleep 0.1
    done
    return 1
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

# The emulated crowd's namespace P-crowd (10.77.0.7, fd77::7) gets EMU_CROWD more addresses,
# /32s on its lan0: 10.77.16.1, .2 ... .254, 10.77.17.1 ... (no .0 or .255), listed one a line
# in DIR/emu-crowd.txt. The client reaches EMU_CROWD_NET via 10.77.0.7 (one neighbour entry, not
# 2000: the neighbour table's gc_thresh3 is 1024 and is no namespace's own to raise). Nothing runs
# there at `up`: the bench starts one lab/responder.py on the first N of these addresses.
build_emu_crowd() {
    local p=$1 dir=$2 i
    for ((i = 0; i < EMU_CROWD; i++)); do
        echo "10.77.$((16 + i / 254)).$((1 + i % 254))"
    done >"$dir/emu-crowd.txt"
    [ "$EMU_CROWD" -gt 0 ] || return 0
    sed "s|.*|addr add &/32 dev lan0|" "$dir/emu-crowd.txt" | ip -n "$p-crowd" -batch -
    ip -n "$p-cl" route add "$EMU_CROWD_NET" via "$NET.${ADDR[crowd]}"
}

# ssdp_wait P ST SECONDS TEXT...: from the client namespace, send an M-SEARCH for ST (MX 1) every
# half second until, for each TEXT, a reply's LOCATION contains it; print the LOCATIONs seen.
# Fails after SECONDS. (A plain socket: it returns as soon as the devices answered.)
ssdp_wait() {
    local p=$1
    shift
    ip netns exec "$p-cl" python3 - "$@" <<'EOF'
import socket, sys, time
st, deadline, wanted = sys.argv[1], time.monotonic() + float(sys.argv[2]), sys.argv[3:]
search = ('M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: "ssdp:discover"\r\n'
          f"MX: 1\r\nST: {st}\r\n\r\n").encode()
seen, resend = [], 0.0
with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
    sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 2)
    while (now := time.monotonic()) < deadline:
        if now >= resend:
            try:
                sock.sendto(search, ("239.255.255.250", 1900))
            except OSError:
                pass
            resend = now + 0.5
        sock.settimeout(max(min(resend, deadline) - now, 0.01))
        try:
            reply = sock.recv(65536).decode("latin-1")
        except socket.timeout:
            continue
        for line in reply.split("\r\n"):
            name, _, value = line.partition(":")
            if name.strip().lower() == "location" and value.strip() not in seen:
                seen.append(value.strip())
        if all(any(text in location for location in seen) for text in wanted):
            break
print("\n".join(seen))
sys.exit(0 if all(any(text in location for location in seen) for text in wanted) else 1)
EOF
}

# Wait until all three devices (four with UPNPY_LAB_GW2=1, and the crowd) answer M-SEARCH in the
# client namespace, until minidlna has scanned its tracks (it answers before), and with
# UPNPY_LAB_DMR=1 until the renderer serves its description; record the light's LOCATION (its
# UDN, and so its description path, is new at every start).
wait_ready() {
    local p=$1 dir=$2 seen ip want missing=""
    want="http://$NET.${ADDR[gw]}:5000/ http://$NET.${ADDR[dms]}:8200/ http://$NET.${ADDR[lt]}:49200/"
    [ "$GW2" = 0 ] || want="$want http://$NET.${ADDR[gw2]}:5000/"
    for ip in $(crowd_ips); do want="$want http://$ip:8200/"; done
    # shellcheck disable=SC2086
    if ! seen=$(ssdp_wait "$p" upnp:rootdevice $((45 + 3 * CROWD / 2)) $want); then
        for ip in $want; do grep -qF "$ip" <<<"$seen" || missing="$missing $ip"; done
        log "not every device answered M-SEARCH; missing:$missing"
        return 1
    fi
    LIGHT_URL=$(grep -F "http://$NET.${ADDR[lt]}:49200/" <<<"$seen" | head -n 1)
    if [ "$DMR" = 1 ] && ! http_wait "$p" "$(renderer_url)" 15; then
        log "gmediarender did not serve $(renderer_url) within 15 s"
        return 1
    fi
    for _ in $(seq 1 150); do
        grep -q "Initial file scan completed" "$dir/minidlna.out" 2>/dev/null && return 0
        sleep 0.1
    done
    log "minidlna did not finish scanning its media within 15 s"
    return 1
}

cmd_up() {
    need_root
    cmd_packages
    cmd_clean stale
    mkdir -p "$LABS"
    local p dir built
    case $CROWD in
        '' | *[!0-9]*) die "UPNPY_LAB_CROWD must be a number of hosts (0..150), not '$CROWD'" ;;
    esac
    CROWD=$((10#$CROWD))
    [ "$CROWD" -le 150 ] || die "UPNPY_LAB_CROWD=$CROWD: at most 150 crowd hosts (10.77.0.101..250)"
    case $EMU_CROWD in
        '' | *[!0-9]*) die "UPNPY_LAB_EMU_CROWD must be a number of addresses (0..4000), not '$EMU_CROWD'" ;;
    esac
    EMU_CROWD=$((10#$EMU_CROWD))
    [ "$EMU_CROWD" -le 4000 ] || die "UPNPY_LAB_EMU_CROWD=$EMU_CROWD: at most 4000 addresses"
    case $GW2 in
        0 | 1) ;;
        *) die "UPNPY_LAB_GW2 must be 0 (the second gateway on demand) or 1 (running), not '$GW2'" ;;
    esac
    case $DMR in
        0 | 1) ;;
        *) die "UPNPY_LAB_DMR must be 0 (the renderer on demand) or 1 (running), not '$DMR'" ;;
    esac
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
UPNPY_LAB_WAN_IP=$WAN_IP
UPNPY_LAB_GW_URL=http://$NET.1:5000/rootDesc.xml
UPNPY_LAB_INET_NS=$p-inet
UPNPY_LAB_INET_IP=$INET_IP
UPNPY_LAB_GW2_NS=$p-gw2
UPNPY_LAB_GW2_IP=$NET.5
UPNPY_LAB_GW2_URL=http://$NET.5:5000/rootDesc.xml
UPNPY_LAB_GW2_WAN_IP=$GW2_WAN_IP
UPNPY_LAB_CGN_NS=$p-cgn
UPNPY_LAB_GW2=$GW2
UPNPY_LAB_DMS_URL=http://$NET.3:8200/rootDesc.xml
UPNPY_LAB_TRACKS=$TRACKS
UPNPY_LAB_LONG_TRACK=$LONG_TRACK
UPNPY_LAB_DMR_NS=$p-dmr
UPNPY_LAB_DMR_IP=$NET.${ADDR[dmr]}
UPNPY_LAB_DMR_IP6=${NET6}:${ADDR[dmr]}
UPNPY_LAB_DMR_URL=$(renderer_url)
UPNPY_LAB_DMR=$DMR
UPNPY_LAB_CROWD=$CROWD
UPNPY_LAB_CROWD_IPS=$(crowd_ips | tr -s ' ' ',' | sed 's/,$//')
UPNPY_LAB_LAN_IF=lan0
UPNPY_LAB_GW_IP6=${NET6}:${ADDR[gw]}
UPNPY_LAB_CLIENT_IP6=${NET6}:${ADDR[cl]}
UPNPY_LAB_DMS_IP6=${NET6}:${ADDR[dms]}
UPNPY_LAB_LIGHT_IP6=${NET6}:${ADDR[lt]}
UPNPY_LAB_GW2_IP6=${NET6}:${ADDR[gw2]}
UPNPY_LAB_EMU_NS=$p-emu
UPNPY_LAB_EMU_IP=$NET.${ADDR[emu]}
UPNPY_LAB_EMU_IP6=${NET6}:${ADDR[emu]}
UPNPY_LAB_EMU_CROWD_NS=$p-crowd
UPNPY_LAB_EMU_CROWD_IP=$NET.${ADDR[crowd]}
UPNPY_LAB_EMU_CROWD=$EMU_CROWD
UPNPY_LAB_EMU_CROWD_FILE=$dir/emu-crowd.txt
UPNPY_LAB_RESPONDER=$HERE/responder.py
EOF
    log "building lab $p in $dir"
    # Not `if ! ( ... )`: in a condition, `set -e` would be ignored inside the subshell.
    set +e
    (
        set -e
        ip netns add "$p-br"
        ip -n "$p-br" link add br0 type bridge
        ip -n "$p-br" link set br0 up
        ip -n "$p-br" link set lo up
        for h in $HOSTS; do link_host "$p" "$h"; done
        # Replies to connections from the WAN side (through a mapping) go back via the gateway.
        ip -n "$p-cl" route add default via "$NET.${ADDR[gw]}"
        start_gateway "$p" "$dir"
        build_gateway2 "$p" "$dir"
        start_media_server "$p" "$dir"
        start_light "$p" "$dir"
        build_renderer "$p" "$dir"
        build_emu_crowd "$p" "$dir"
        start_crowd "$p" "$dir"
        wait_ready "$p" "$dir"
        echo "UPNPY_LAB_LIGHT_URL=$LIGHT_URL" >>"$dir/lab.env"
    )
    built=$?
    set -e
    if [ "$built" != 0 ]; then
        log "bring-up failed; daemon logs:"
        show_logs "$dir" all
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
    for ns in lt dms dmr gw gw2 emu crowd cl inet cgn br; do kill_namespace_pids "$p-$ns"; done
    kill_crowd "$p"
    for ns in lt dms dmr gw gw2 emu crowd cl inet cgn br; do
        ip netns del "$p-$ns" 2>/dev/null || true
    done
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

# show_logs DIR [all]: the useful tail of each daemon's log — of every daemon with `all` (the
# lab did not come up), else only of the daemons that died (a test run failed). Routine
# chatter is left out: miniupnpd's netlink and debug lines, minidlna's scanner, the MIME types
# gmediarender lists at start.
show_logs() {
    local dir=$1 which=${2:-dead} p entry host comm f shown=0 dmr
    p=$(basename "$dir")
    dmr=$(sed -n 's/^UPNPY_LAB_DMR=//p' "$dir/lab.env" 2>/dev/null || true)
    for entry in gw:miniupnpd:miniupnpd.log gw2:miniupnpd:miniupnpd-gw2.log \
        dms:minidlnad:minidlna.out dms:minidlnad:minidlna.log lt:gupnp-network-l:light.log \
        dmr:gmediarender:gmediarender.out dmr:gmediarender:gmediarender.log; do
        IFS=: read -r host comm f <<<"$entry"
        f=$dir/$f
        [ -s "$f" ] || continue
        if [ "$which" != all ] && [ -n "$(daemon_pids "$p-$host" "$comm")" ]; then
            continue  # still running: its log is not the story
        fi
        # the second gateway runs only on demand, the renderer too unless UPNPY_LAB_DMR=1: not
        # running is normal
        [ "$host" != gw2 ] || [ "$which" = all ] || continue
        [ "$host" != dmr ] || [ "$dmr" = 1 ] || [ "$which" = all ] || continue
        echo "----- $f (last 15 lines that matter)" >&2
        grep -v -i -e 'netlink' -e 'recv' -e 'debug:' -e 'scanning' -e 'inotify' \
            -e 'Registering support' "$f" \
            | tail -n 15 >&2 || true
        shown=1
    done
    [ "$shown" = 1 ] || log "every daemon is still running; their logs are in $dir"
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

daemon_pids() {  # daemon_pids NS COMM: the pids of the COMM processes in namespace NS
    local pid
    for pid in $(ip netns pids "$1" 2>/dev/null || true); do
        if [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$2" ]; then printf '%s ' "$pid"; fi
    done
}

# stop_daemon NS COMM: TERM (and CONT, should it be frozen) every COMM process in namespace NS,
# short waits, then KILL; return once none is left.
stop_daemon() {
    local ns=$1 comm=$2 sig pids
    for sig in TERM TERM TERM TERM TERM TERM TERM TERM TERM TERM KILL KILL KILL; do
        pids=$(daemon_pids "$ns" "$comm")
        [ -n "$pids" ] || return 0
        # shellcheck disable=SC2086
        kill -"$sig" $pids 2>/dev/null || true
        # shellcheck disable=SC2086
        [ "$sig" = KILL ] || kill -CONT $pids 2>/dev/null || true
        sleep 0.2
    done
    die "$comm in $ns does not stop"
}

# Start, stop or restart the gateway (gw), the second gateway (gw2), the media server (dms) or
# the renderer (dmr) of a running lab, exactly as `up` starts it (same config, uuid, pid file and
# log, appended to). `start` and `restart` return once it answers, from the lab's client
# namespace: its description for gw, dms and dmr, an M-SEARCH for InternetGatewayDevice:1 for
# gw2. miniupnpd leaves the nftables chains in place. The light cannot come back this way: it
# gets a new description URL at every start.
cmd_daemon() {
    local action=$1 dir=${2:?usage: lab.sh $1 DIR gw|gw2|dms|dmr} daemon=${3:-} p ns comm pidfile url
    [ -f "$dir/lab.env" ] || die "$dir is not a lab folder"
    dir=$(cd "$dir" && pwd)
    p=$(basename "$dir")
    case $daemon in
        gw | gw2) comm=miniupnpd pidfile=$(gateway_files "$dir" "$daemon").pid ;;
        dms) comm=minidlnad pidfile=$dir/minidlna.pid ;;
        dmr) comm=gmediarender pidfile=$dir/gmediarender.pid ;;  # it writes none: -P not given
        *) die "usage: lab.sh $action DIR gw|gw2|dms|dmr" ;;
    esac
    case $daemon in
        dms) url=http://$NET.${ADDR[dms]}:8200/rootDesc.xml ;;
        dmr) url=$(renderer_url) ;;
        *) url=http://$NET.${ADDR[$daemon]}:5000/rootDesc.xml ;;
    esac
    ns=$p-$daemon
    ip netns pids "$ns" >/dev/null 2>&1 || die "lab $p has no namespace $ns"
    if [ "$action" != start ]; then
        stop_daemon "$ns" "$comm"
        rm -f "$pidfile"  # left behind by a killed daemon: both refuse to start while its pid lives
    fi
    [ "$action" != stop ] || return 0
    if [ -z "$(daemon_pids "$ns" "$comm")" ]; then
        rm -f "$pidfile"
        case $daemon in
            gw | gw2) run_gateway "$p" "$dir" "$daemon" ;;
            dms) run_media_server "$p" "$dir" ;;
            dmr) run_renderer "$p" "$dir" ;;
        esac
    fi
    if [ "$daemon" = gw2 ]; then
        ssdp_wait "$p" "$IGD1" 15 "$url" >/dev/null && return 0
    else
        http_wait "$p" "$url" 15 && return 0
    fi
    die "$comm did not answer ($url) within 15 s of its $action"
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
    restart | start | stop) need_root; cmd_daemon "$@" ;;
    *) sed -n '2,14p' "$0" >&2; exit 2 ;;
esac
