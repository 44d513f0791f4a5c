#compdef chsk

__chsk_complete() {
    local -ar non_empty_completions=("${@:#(|:*)}")
    local -ar empty_completions=("${(M)@:#(|:*)}")
    _describe -V '' non_empty_completions -- empty_completions -P $'\'\''
}

__chsk_custom_complete() {
    local -a completions
    completions=("${(@f)"$("${command_name}" "${@}" "${command_line[@]}")"}")
    if [[ "${#completions[@]}" -gt 1 ]]; then
        __chsk_complete "${completions[@]:0:-1}"
    fi
}

__chsk_cursor_index_in_current_word() {
    if [[ -z "${QIPREFIX}${IPREFIX}${PREFIX}" ]]; then
        printf 0
    else
        printf %s "${#${(z)LBUFFER}[-1]}"
    fi
}

_chsk() {
    emulate -RL zsh -G
    setopt extendedglob nullglob numericglobsort
    unsetopt aliases banghist

    local -xr SAP_SHELL=zsh
    local -x SAP_SHELL_VERSION
    SAP_SHELL_VERSION="$(builtin emulate zsh -c 'printf %s "${ZSH_VERSION}"')"
    local -r SAP_SHELL_VERSION

    local context state state_descr line
    local -A opt_args

    local -r command_name="${words[1]}"
    local -ar command_line=("${words[@]}")
    local -ir current_word_index="$((CURRENT - 1))"

    local -i ret=1
    local -ar arg_specs=(
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
        '(-): :->command'
        '(-)*:: :->arg'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0
    case "${state}" in
    command)
        local -ar subcommands=(
            'serve:Run a Sente channel-socket server (WebSocket + Ajax long-poll) with a command prompt.'
            'connect:Interactive REPL to a Sente server: send events, make requests, watch pushes.'
            'send:Send one event to a Sente server; with --reply, wait for and print the reply.'
            'await:Wait for events pushed by a Sente server and print them, one per line.'
            'watch:Print every state transition of a client as it happens (keeps reconnecting).'
            'bench:Load-test a Sente server: idle connections, request/reply, push fan-out, Ajax.'
            'convert:Convert values between EDN, JSON and Transit (JSON, JSON-verbose, MessagePack).'
            'pack:Read EDN (or JSON) values and print them as a packer'\''s payload.'
            'unpack:Read a packer'\''s payloads (optionally Sente-framed) and print them as EDN or JSON.'
            'help:Show subcommand help information.'
        )
        _describe -V subcommand subcommands && ret=0
        ;;
    arg)
        case "${words[1]}" in
        serve|connect|send|await|watch|bench|convert|pack|unpack|help)
            "_chsk_${words[1]}" && ret=0
            ;;
        esac
        ;;
    esac

    return "${ret}"
}

_chsk_serve() {
    local -i ret=1
    local -ar ___packer=('edn' 'transit-json' 'transit-json-verbose')
    local -ar ___wire=('auto' 'v1' 'v2')
    local -ar ___log_level=('debug' 'info' 'warning')
    local -ar arg_specs=(
        '--host[Address to bind.]:host:'
        '--port[Port (0 picks a free one and prints it).]:port:'
        '--path[Channel socket path.]:path:'
        '--packer[Payload format (Sente'\''s packers; transit-msgpack is not one).]:packer:{__chsk_complete "${___packer[@]}"}'
        '--wire[Wire generation\: auto (v1 and v2 side by side), v1 (Sente <= 1.16) or v2 (1.18+).]:wire:{__chsk_complete "${___wire[@]}"}'
        '--csrf-token[Require this CSRF token (param csrf-token or X-CSRF-Token header); no check when absent.]:csrf-token:'
        '*--allowed-origin[Allowed Origin (repeatable); all when absent.]:allowed-origin:'
        '--uid-param[Request parameter holding the user id (default\: uid).]:uid-param:'
        '--uid-header[Take the user id from this header instead of a parameter.]:uid-header:'
        '--uid-cookie[Take the user id from this cookie instead of a parameter.]:uid-cookie:'
        '--static[Serve this folder'\''s files on the same origin.]:static:_files -/'
        '--echo[Run the reference echo app (see above).]'
        '--redis[Join a cluster of chsk serve nodes over this Redis (redis\://\[\[user\]\:password@\]host\[\:port\]\[/db\] or unix\:///path)\: push, broadcast, \[\:chsk/close\] and connected uids span every node.]:url:'
        '--node-id[This node'\''s id in the cluster (with --redis; default\: host name, process id and a random part).]:node-id:'
        '--cluster-name[Nodes with the same --redis and cluster name form one cluster.]:cluster-name:'
        '--cluster-heartbeat-ms[How often a node renews its heartbeat in Redis and sweeps expired nodes.]:cluster-heartbeat-ms:'
        '--cluster-ttl-ms[A node silent this long leaves the cluster (its uids close on a surviving node at its next heartbeat).]:cluster-ttl-ms:'
        '--metrics[Serve Prometheus metrics (connections, events, bytes, pushes, held polls, refusals by reason, queue bytes, event-loop stalls, push latency) at GET --metrics-path.]'
        '--metrics-path[Path of the metrics endpoint (with --metrics).]:metrics-path:'
        '--no-websocket[Refuse WebSocket upgrades (Ajax only; auto clients fall back).]'
        '--ws-kalive-ms[Server keep-alive window (halved for v2 clients, as Sente does).]:ws-kalive-ms:'
        '--ws-ping-timeout-ms[Close a v2 client that does not answer a ping within this.]:ws-ping-timeout-ms:'
        '--lp-timeout-ms[Long-poll hold time (< 60000).]:lp-timeout-ms:'
        '--send-buf-ms-ws[Push batching window for WebSocket clients.]:send-buf-ms-ws:'
        '--send-buf-ms-ajax[Push batching window for Ajax clients.]:send-buf-ms-ajax:'
        '--max-message-bytes[Largest inbound message (WS close 1009 / HTTP 413 beyond).]:max-message-bytes:'
        '--tls-cert[PEM certificate chain for HTTPS/WSS (with --tls-key).]:tls-cert:_files'
        '--tls-key[PEM private key for HTTPS/WSS.]:tls-key:_files'
        '--max-push-bytes[Largest push frame or Ajax answer; batches are split to fit, a larger single event is refused (default\: --max-message-bytes).]:max-push-bytes:'
        '--max-ajax-pending-bytes[Pushes waiting for one Ajax client between polls; past it the client is dropped and resyncs.]:max-ajax-pending-bytes:'
        '--header-timeout[Seconds a client has to send its first request head (408 and close after).]:header-timeout:'
        '--body-timeout[Seconds a request body may take after its head (408 and close after).]:body-timeout:'
        '--idle-timeout[Seconds a keep-alive HTTP connection may sit idle (a held poll is not idle).]:idle-timeout:'
        '--max-header-bytes[Largest request head in bytes (431 beyond; one line at most half of it).]:max-header-bytes:'
        '--max-queued-bytes[Bytes that may wait for a WebSocket client that does not read; closed beyond.]:max-queued-bytes:'
        '--write-stall-timeout[Seconds a WebSocket client may read nothing while data waits for it (closed 1008 after).]:write-stall-timeout:'
        '--shutdown-timeout[Seconds a graceful shutdown waits for connections before dropping them; a second signal exits at once.]:shutdown-timeout:'
        '--log-level[debug (every event), info, warning.]:log-level:{__chsk_complete "${___log_level[@]}"}'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_chsk_connect() {
    local -i ret=1
    local -ar ___type=('auto' 'ws' 'ajax')
    local -ar ___packer=('edn' 'transit-json' 'transit-json-verbose')
    local -ar ___protocol=('auto' 'v1' 'v2')
    local -ar arg_specs=(
        ':url:'
        '--type[Transport\: auto (WebSocket, Ajax fallback), ws or ajax.]:type:{__chsk_complete "${___type[@]}"}'
        '--packer[Payload format (the server'\''s)\: edn, transit-json or transit-json-verbose.]:packer:{__chsk_complete "${___packer[@]}"}'
        '--protocol[Wire generation\: auto (from the handshake), v1 (Sente <= 1.16) or v2 (1.18+).]:protocol:{__chsk_complete "${___protocol[@]}"}'
        '--csrf-token[CSRF token (param csrf-token and X-CSRF-Token header).]:csrf-token:'
        '*--param[Extra query parameter k=v (repeatable).]:param:'
        '*--header[Extra header k\:v (repeatable).]:header:'
        '--client-id[Client id (default\: a random UUID).]:client-id:'
        '--uid[User id, sent as the uid parameter (what chsk serve reads).]:uid:'
        '--connect-timeout[Seconds to wait for the connection to open.]:connect-timeout:'
        '*--cookie[Cookie name=value sent with every request (repeatable), e.g. a Ring session.]:cookie:'
        '--cacert[PEM file of the CA (or self-signed) certificate(s) to trust for wss\:// and https\://.]:file:_files'
        '--insecure[Do not check the server'\''s TLS certificate (wss\://, https\://)\: encrypted, not authenticated.]'
        '--timeout[Default request timeout in seconds.]:timeout:'
        '--json[Print incoming events and replies as JSON (what JSON loses is named, as by chsk convert).]'
        '--pretty[Print incoming events and replies as indented JSON (implies --json).]'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_chsk_send() {
    local -i ret=1
    local -ar ___type=('auto' 'ws' 'ajax')
    local -ar ___packer=('edn' 'transit-json' 'transit-json-verbose')
    local -ar ___protocol=('auto' 'v1' 'v2')
    local -ar arg_specs=(
        ':url:'
        '--type[Transport\: auto (WebSocket, Ajax fallback), ws or ajax.]:type:{__chsk_complete "${___type[@]}"}'
        '--packer[Payload format (the server'\''s)\: edn, transit-json or transit-json-verbose.]:packer:{__chsk_complete "${___packer[@]}"}'
        '--protocol[Wire generation\: auto (from the handshake), v1 (Sente <= 1.16) or v2 (1.18+).]:protocol:{__chsk_complete "${___protocol[@]}"}'
        '--csrf-token[CSRF token (param csrf-token and X-CSRF-Token header).]:csrf-token:'
        '*--param[Extra query parameter k=v (repeatable).]:param:'
        '*--header[Extra header k\:v (repeatable).]:header:'
        '--client-id[Client id (default\: a random UUID).]:client-id:'
        '--uid[User id, sent as the uid parameter (what chsk serve reads).]:uid:'
        '--connect-timeout[Seconds to wait for the connection to open.]:connect-timeout:'
        '*--cookie[Cookie name=value sent with every request (repeatable), e.g. a Ring session.]:cookie:'
        '--cacert[PEM file of the CA (or self-signed) certificate(s) to trust for wss\:// and https\://.]:file:_files'
        '--insecure[Do not check the server'\''s TLS certificate (wss\://, https\://)\: encrypted, not authenticated.]'
        ':event:'
        '--reply[Ask for a reply and print it.]'
        '--timeout[Seconds to wait for the reply.]:timeout:'
        '--json[Print the reply as JSON (what JSON loses is named on stderr, as by chsk convert).]'
        '--pretty[Print the reply as indented JSON (implies --json).]'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_chsk_await() {
    local -i ret=1
    local -ar ___type=('auto' 'ws' 'ajax')
    local -ar ___packer=('edn' 'transit-json' 'transit-json-verbose')
    local -ar ___protocol=('auto' 'v1' 'v2')
    local -ar arg_specs=(
        ':url:'
        '--type[Transport\: auto (WebSocket, Ajax fallback), ws or ajax.]:type:{__chsk_complete "${___type[@]}"}'
        '--packer[Payload format (the server'\''s)\: edn, transit-json or transit-json-verbose.]:packer:{__chsk_complete "${___packer[@]}"}'
        '--protocol[Wire generation\: auto (from the handshake), v1 (Sente <= 1.16) or v2 (1.18+).]:protocol:{__chsk_complete "${___protocol[@]}"}'
        '--csrf-token[CSRF token (param csrf-token and X-CSRF-Token header).]:csrf-token:'
        '*--param[Extra query parameter k=v (repeatable).]:param:'
        '*--header[Extra header k\:v (repeatable).]:header:'
        '--client-id[Client id (default\: a random UUID).]:client-id:'
        '--uid[User id, sent as the uid parameter (what chsk serve reads).]:uid:'
        '--connect-timeout[Seconds to wait for the connection to open.]:connect-timeout:'
        '*--cookie[Cookie name=value sent with every request (repeatable), e.g. a Ring session.]:cookie:'
        '--cacert[PEM file of the CA (or self-signed) certificate(s) to trust for wss\:// and https\://.]:file:_files'
        '--insecure[Do not check the server'\''s TLS certificate (wss\://, https\://)\: encrypted, not authenticated.]'
        '*--event[Event id to wait for (repeatable; default any).]:event:'
        '--count[How many matching events to wait for.]:count:'
        '--timeout[Seconds to wait in all.]:timeout:'
        '--json[Print events as JSON (what JSON loses is named on stderr, as by chsk convert).]'
        '--pretty[Print events as indented JSON (implies --json).]'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_chsk_watch() {
    local -i ret=1
    local -ar ___type=('auto' 'ws' 'ajax')
    local -ar ___packer=('edn' 'transit-json' 'transit-json-verbose')
    local -ar ___protocol=('auto' 'v1' 'v2')
    local -ar arg_specs=(
        ':url:'
        '--type[Transport\: auto (WebSocket, Ajax fallback), ws or ajax.]:type:{__chsk_complete "${___type[@]}"}'
        '--packer[Payload format (the server'\''s)\: edn, transit-json or transit-json-verbose.]:packer:{__chsk_complete "${___packer[@]}"}'
        '--protocol[Wire generation\: auto (from the handshake), v1 (Sente <= 1.16) or v2 (1.18+).]:protocol:{__chsk_complete "${___protocol[@]}"}'
        '--csrf-token[CSRF token (param csrf-token and X-CSRF-Token header).]:csrf-token:'
        '*--param[Extra query parameter k=v (repeatable).]:param:'
        '*--header[Extra header k\:v (repeatable).]:header:'
        '--client-id[Client id (default\: a random UUID).]:client-id:'
        '--uid[User id, sent as the uid parameter (what chsk serve reads).]:uid:'
        '--connect-timeout[Seconds to wait for the connection to open.]:connect-timeout:'
        '*--cookie[Cookie name=value sent with every request (repeatable), e.g. a Ring session.]:cookie:'
        '--cacert[PEM file of the CA (or self-signed) certificate(s) to trust for wss\:// and https\://.]:file:_files'
        '--insecure[Do not check the server'\''s TLS certificate (wss\://, https\://)\: encrypted, not authenticated.]'
        '--json[JSON lines for machines.]'
        '--pretty[Indented JSON, one object per transition (implies --json).]'
        '--seconds[Stop after this many seconds (default\: run until interrupted).]:seconds:'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_chsk_bench() {
    local -i ret=1
    local -ar _mode=('conns' 'echo' 'fanout' 'ajax' 'burst')
    local -ar ___type=('auto' 'ws' 'ajax')
    local -ar ___protocol=('auto' 'v1' 'v2')
    local -ar ___client=('full' 'lean')
    local -ar arg_specs=(
        ':url:'
        ':mode:{__chsk_complete "${_mode[@]}"}'
        '--connections[Number of clients (at most 19000).]:connections:'
        '--duration[Seconds to run (to hold, for conns; the reply timeout, for burst).]:duration:'
        '--rate[Total requests per second for echo (default\: back to back).]:rate:'
        '--uids[Number of uids for fanout/ajax (and conns, where clients share them in turn).]:uids:'
        '--uid-prefix[For conns\: the uids are this prefix and a number (distinct prefixes give several benches distinct uids).]:uid-prefix:'
        '--path[The server'\''s channel socket path (to find /broadcast beside it).]:path:'
        '--trigger[For fanout/ajax\: the server whose /broadcast (or /push-each) makes the pushes (another node of a cluster), or none\: only receive, another bench triggers.]:url|none:'
        '--interval-ms[For fanout/ajax\: pause between two rounds of pushes (0\: back to back, to find the rate a server sustains).]:interval-ms:'
        '--per-uid[For fanout/ajax\: one push per connected uid (GET /push-each) instead of one broadcast.]'
        '--type[Transport\: ws or ajax.]:type:{__chsk_complete "${___type[@]}"}'
        '--protocol[Wire generation\: auto, v1 or v2.]:protocol:{__chsk_complete "${___protocol[@]}"}'
        '--csrf-token[CSRF token.]:csrf-token:'
        '--server-pid[The server'\''s PID, for CPU and RSS figures.]:server-pid:'
        '--client[Clients for fanout and ajax\: full or lean.]:client:{__chsk_complete "${___client[@]}"}'
        '--json[Print the result as JSON.]'
        '--pretty[Print the result as indented JSON (implies --json).]'
        '--cacert[PEM file of the CA (or self-signed) certificate(s) to trust for wss\:// and https\://.]:file:_files'
        '--insecure[Do not check the server'\''s TLS certificate (wss\://, https\://)\: encrypted, not authenticated.]'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_chsk_convert() {
    local -i ret=1
    local -ar ___from=('edn' 'json' 'transit-json' 'transit-json-verbose' 'transit-msgpack')
    local -ar ___to=('edn' 'json' 'transit-json' 'transit-json-verbose' 'transit-msgpack')
    local -ar ___transit_cache=('utf16' 'scalars')
    local -ar arg_specs=(
        '*:files:_files'
        '--from[Input format.]:from:{__chsk_complete "${___from[@]}"}'
        '--to[Output format.]:to:{__chsk_complete "${___to[@]}"}'
        '--pretty[Indented output for humans (EDN, JSON, Transit JSON).]'
        '--sort[Print map entries and set members in a canonical (sorted) order, for diffs.]'
        '--keywordize[With --from json\: object keys become keywords ({"a"\:1} → {\:a 1}).]'
        '--no-keywordize[With --from json\: object keys become keywords ({"a"\:1} → {\:a 1}).]'
        '--binary[Allow binary output (transit-msgpack) on a terminal.]'
        '--transit-cache[Transit cache string lengths\: utf16 (transit-java/js peers) or scalars (transit-python).]:transit-cache:{__chsk_complete "${___transit_cache[@]}"}'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_chsk_pack() {
    local -i ret=1
    local -ar ___from=('edn' 'json')
    local -ar ___packer=('edn' 'transit-json' 'transit-json-verbose' 'transit-msgpack')
    local -ar ___frame=('none' 'auto' 'v1' 'v2')
    local -ar ___transit_cache=('utf16' 'scalars')
    local -ar arg_specs=(
        '*:files:_files'
        '--from[Input format of the values.]:from:{__chsk_complete "${___from[@]}"}'
        '--packer[Payload format\: edn, transit-json, transit-json-verbose, transit-msgpack.]:packer:{__chsk_complete "${___packer[@]}"}'
        '--frame[Wrap each value in Sente framing\: none, v1 (-x / +\[x cb\]) or v2 (\[x cb\]).]:frame:{__chsk_complete "${___frame[@]}"}'
        '--cb[Callback id for the framing (e.g. a1b2c3, 0, \:ajax); needs --frame v1 or v2.]:cb:'
        '--pretty[Indented output for humans (EDN, or JSON for the Transit JSON packers; no framing).]'
        '--sort[Print map entries and set members in a canonical (sorted) order, for diffs.]'
        '--single[Exactly one value per input (like read-string); more is an error.]'
        '--keywordize[With --from json\: object keys become keywords ({"a"\:1} → {\:a 1}).]'
        '--no-keywordize[With --from json\: object keys become keywords ({"a"\:1} → {\:a 1}).]'
        '--binary[Allow binary output (transit-msgpack) on a terminal.]'
        '--transit-cache[Transit cache string lengths\: utf16 (transit-java/js peers) or scalars (transit-python).]:transit-cache:{__chsk_complete "${___transit_cache[@]}"}'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_chsk_unpack() {
    local -i ret=1
    local -ar ___packer=('edn' 'transit-json' 'transit-json-verbose' 'transit-msgpack')
    local -ar ___frame=('none' 'auto' 'v1' 'v2')
    local -ar ___to=('edn' 'json')
    local -ar ___transit_cache=('utf16' 'scalars')
    local -ar arg_specs=(
        '*:files:_files'
        '--packer[Payload format\: edn, transit-json, transit-json-verbose, transit-msgpack.]:packer:{__chsk_complete "${___packer[@]}"}'
        '--frame[Sente framing of each line\: none, auto, v1 or v2.]:frame:{__chsk_complete "${___frame[@]}"}'
        '--to[Output format.]:to:{__chsk_complete "${___to[@]}"}'
        '--pretty[Indented EDN or JSON for humans.]'
        '--transit-cache[Transit cache string lengths\: utf16 (transit-java/js peers) or scalars (transit-python).]:transit-cache:{__chsk_complete "${___transit_cache[@]}"}'
        '--version[Show the version.]'
        '(-h --help)'{-h,--help}'[Show help information.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

_chsk_help() {
    local -i ret=1
    local -ar arg_specs=(
        '*:subcommands:'
        '--version[Show the version.]'
    )
    _arguments -w -s -S : "${arg_specs[@]}" && ret=0

    return "${ret}"
}

if [[ "${funcstack[1]}" = _chsk ]]; then
    _chsk "${@}"
else
    compdef _chsk chsk
fi
