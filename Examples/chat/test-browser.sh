#!/usr/bin/env bash
# The chat page in headless Chromium against the chat server (issue 15, item 6).
#
#   Examples/chat/test-browser.sh [path/to/chat-server]
#
# For each transport (WebSocket; Ajax forced by ?transport=ajax; Ajax by fallback from a
# server that refuses WebSockets), three headless Chromiums open the page:
#   bob  in room R says "hi-…" as soon as he has joined;
#   ann  in room R says "hello-…" once she sees bob's message (history or live);
#   cat  in another room says "meow-…".
# Then it asserts, from the page titles (chat.js mirrors the DOM's message list into
# document.title; read over DevTools' HTTP endpoint /json/list, no client library needed):
# bob shows ann's message as arrived live, ann shows bob's, both show the expected transport,
# and neither room shows the other's messages. Finally a --dump-dom of a late joiner shows the
# room's history in the DOM (WebSocket run). Needs: chromium (Debian package), curl. Binds 127.0.0.1 only.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
SERVER=${1:-}
CHROMIUM=${CHROMIUM:-chromium}
if [ -z "$SERVER" ]; then
    flock /tmp/chsk-build.lock swift build --package-path "$HERE" --product chat-server >/dev/null
    SERVER=$(swift build --package-path "$HERE" --show-bin-path)/chat-server
fi
command -v "$CHROMIUM" >/dev/null || { echo "test-browser: $CHROMIUM not found (apt-get install chromium)"; exit 1; }

TMP=$(mktemp -d /tmp/chsk-chat-browser.XXXXXX)
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
    rm -rf "$TMP"
}
trap cleanup EXIT

fail() { echo "FAIL: $*"; exit 1; }

start_server() {  # start_server NAME [ARGS...]: sets PORT
    local name=$1; shift
    "$SERVER" --host 127.0.0.1 --port 0 --public "$HERE/public" "$@" > "$TMP/$name.out" 2>&1 &
    PIDS+=($!)
    for _ in $(seq 200); do
        PORT=$(sed -n -E 's#^chat-server: http://127\.0\.0\.1:([0-9]+)/.*#\1#p' "$TMP/$name.out")
        [ -n "$PORT" ] && return 0
        sleep 0.1
    done
    cat "$TMP/$name.out"; fail "$name: the server did not start"
}

browser() {  # browser NAME URL: a headless Chromium with DevTools on a free port
    local name=$1 url=$2
    mkdir -p "$TMP/$name"
    "$CHROMIUM" --headless=new --no-sandbox --disable-gpu --no-first-run --disable-extensions \
        --user-data-dir="$TMP/$name" --remote-debugging-address=127.0.0.1 --remote-debugging-port=0 \
        "$url" > "$TMP/$name.log" 2>&1 &
    PIDS+=($!)
}

title() {  # title NAME: the page's title (empty until DevTools is up)
    local file=$TMP/$1/DevToolsActivePort port
    [ -f "$file" ] || return 0
    port=$(head -1 "$file")
    curl -s --max-time 2 "http://127.0.0.1:$port/json/list" |
        sed -n -E 's/^ *"title": "(.*)",?$/\1/p' | grep '^chat ' | head -1 || true
}

wait_title() {  # wait_title NAME PATTERN: until the title matches (grep -E), 30 s at most
    local name=$1 pattern=$2 t=""
    for _ in $(seq 300); do
        t=$(title "$name")
        if printf '%s' "$t" | grep -Eq -- "$pattern"; then return 0; fi
        sleep 0.1
    done
    echo "title of $name: $t"; tail -5 "$TMP/$name.log"
    fail "$name: the page never showed /$pattern/"
}

run() {  # run LABEL TRANSPORT-PARAM EXPECTED-TRANSPORT [SERVER-ARGS...]
    local label=$1 param=$2 expected=$3; shift 3
    local started=$SECONDS
    start_server "server-$label" "$@"
    local base="http://127.0.0.1:$PORT/?room" room="room-$label" other="other-$label"
    local t=""
    [ -n "$param" ] && t="&transport=$param"
    browser "bob-$label" "$base=$room&name=bob&say=hi-$label$t"
    wait_title "bob-$label" "^chat \[$expected\] open .*bob: hi-$label"
    browser "ann-$label" "$base=$room&name=ann&say=hello-$label&wait=bob$t"
    browser "cat-$label" "$base=$other&name=cat&say=meow-$label$t"
    wait_title "ann-$label" "^chat \[$expected\] open .*bob: hi-$label.*ann: hello-$label"
    wait_title "bob-$label" "ann: hello-$label\*"          # live, not from the history
    wait_title "cat-$label" "^chat \[$expected\] open .*cat: meow-$label"
    sleep 0.5
    local b a c
    b=$(title "bob-$label"); a=$(title "ann-$label"); c=$(title "cat-$label")
    case "$c" in *hi-*|*hello-*) fail "cat ($other) got room $room's messages: $c";; esac
    case "$a$b" in *meow-*) fail "room $room got cat's message: $a / $b";; esac
    # a late joiner's DOM has the room's history (--dump-dom under virtual time: WebSocket only,
    # a held long-poll keeps virtual time from advancing)
    # (Virtual time can run out before the history's reply arrives on a loaded machine: up to
    # three tries, with a growing budget; each is a fresh browser and a fresh join.)
    if [ "$expected" = ws ]; then
        local try shown=no
        for try in 1 2 3; do
            timeout 60 "$CHROMIUM" --headless=new --no-sandbox --disable-gpu --no-first-run --user-data-dir="$TMP/dan-$label-$try" \
                --virtual-time-budget=$((try * 5000)) --dump-dom "$base=$room&name=dan$t" > "$TMP/dan-$label.html" 2>/dev/null || true
            if grep -q "data-name=\"bob\".*hi-$label" "$TMP/dan-$label.html" && grep -q "data-name=\"ann\".*hello-$label" "$TMP/dan-$label.html"; then
                shown=yes; break
            fi
            echo "note: $label: try $try of the late joiner's DOM showed no history yet"
        done
        [ "$shown" = yes ] || { cat "$TMP/dan-$label.html"; fail "$label: the late joiner's DOM does not show the history"; }
    fi
    echo "ok: $label ($expected): bob «$b», ann «$a», cat «$c» ($((SECONDS - started)) s)"
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
    PIDS=()
}

run ws ws ws
run ajax ajax ajax
run fallback "" ajax --no-websocket
echo "browser tests passed"
