function __chsk_should_offer_completions_for_flags_or_options -a expected_commands
    set -l non_repeating_flags_or_options $argv[2..]
    set -l non_repeating_flags_or_options_absent 0
    set -l positional_index 0
    set -l commands
    __chsk_parse_tokens
    test "$commands" = "$expected_commands"; and return $non_repeating_flags_or_options_absent
end

function __chsk_should_offer_completions_for_positional -a expected_commands positional_index_comparison expected_positional_index
    set -l non_repeating_flags_or_options
    set -l non_repeating_flags_or_options_absent 0
    set -l positional_index 0
    set -l commands
    __chsk_parse_tokens
    test "$commands" = "$expected_commands" -a \( "$positional_index" "$positional_index_comparison" "$expected_positional_index" \)
end

function __chsk_parse_tokens -S
    set -l unparsed_tokens (__chsk_tokens -pc)
    switch $unparsed_tokens[1]
    case 'chsk'
        __chsk_parse_subcommand 0 'version' 'h/help'
        switch $unparsed_tokens[1]
        case 'serve'
            __chsk_parse_subcommand 0 'host=' 'port=' 'path=' 'packer=' 'wire=' 'csrf-token=' 'allowed-origin=+' 'uid-param=' 'uid-header=' 'uid-cookie=' 'static=' 'echo' 'redis=' 'node-id=' 'cluster-name=' 'cluster-heartbeat-ms=' 'cluster-ttl-ms=' 'metrics' 'metrics-path=' 'no-websocket' 'ws-kalive-ms=' 'ws-ping-timeout-ms=' 'lp-timeout-ms=' 'send-buf-ms-ws=' 'send-buf-ms-ajax=' 'max-message-bytes=' 'tls-cert=' 'tls-key=' 'max-push-bytes=' 'max-ajax-pending-bytes=' 'header-timeout=' 'body-timeout=' 'idle-timeout=' 'max-header-bytes=' 'max-queued-bytes=' 'write-stall-timeout=' 'shutdown-timeout=' 'log-level=' 'version' 'h/help'
        case 'connect'
            __chsk_parse_subcommand 1 'type=' 'packer=' 'protocol=' 'csrf-token=' 'param=+' 'header=+' 'client-id=' 'uid=' 'connect-timeout=' 'cookie=+' 'cacert=' 'insecure' 'timeout=' 'json' 'pretty' 'version' 'h/help'
        case 'send'
            __chsk_parse_subcommand 2 'type=' 'packer=' 'protocol=' 'csrf-token=' 'param=+' 'header=+' 'client-id=' 'uid=' 'connect-timeout=' 'cookie=+' 'cacert=' 'insecure' 'reply' 'timeout=' 'json' 'pretty' 'version' 'h/help'
        case 'await'
            __chsk_parse_subcommand 1 'type=' 'packer=' 'protocol=' 'csrf-token=' 'param=+' 'header=+' 'client-id=' 'uid=' 'connect-timeout=' 'cookie=+' 'cacert=' 'insecure' 'event=+' 'count=' 'timeout=' 'json' 'pretty' 'version' 'h/help'
        case 'watch'
            __chsk_parse_subcommand 1 'type=' 'packer=' 'protocol=' 'csrf-token=' 'param=+' 'header=+' 'client-id=' 'uid=' 'connect-timeout=' 'cookie=+' 'cacert=' 'insecure' 'json' 'pretty' 'seconds=' 'version' 'h/help'
        case 'bench'
            __chsk_parse_subcommand 2 'connections=' 'duration=' 'rate=' 'uids=' 'uid-prefix=' 'path=' 'trigger=' 'interval-ms=' 'per-uid' 'type=' 'protocol=' 'csrf-token=' 'server-pid=' 'client=' 'json' 'pretty' 'cacert=' 'insecure' 'version' 'h/help'
        case 'convert'
            __chsk_parse_subcommand -r 1 'from=' 'to=' 'pretty' 'sort' 'keywordize' 'no-keywordize' 'binary' 'transit-cache=' 'version' 'h/help'
        case 'pack'
            __chsk_parse_subcommand -r 1 'from=' 'packer=' 'frame=' 'cb=' 'pretty' 'sort' 'single' 'keywordize' 'no-keywordize' 'binary' 'transit-cache=' 'version' 'h/help'
        case 'unpack'
            __chsk_parse_subcommand -r 1 'packer=' 'frame=' 'to=' 'pretty' 'transit-cache=' 'version' 'h/help'
        case 'help'
            __chsk_parse_subcommand -r 1 'version'
        end
    end
end

function __chsk_tokens
    if test (string split -m 1 -f 1 -- . "$FISH_VERSION") -gt 3
        commandline --tokens-raw $argv
    else
        commandline -o $argv
    end
end

function __chsk_parse_subcommand -S -a positional_count
    argparse -s r -- $argv
    set -l option_specs $argv[2..]
    set -l is_repeating_positional $_flag_r
    set -el _flag_r
    set -a commands $unparsed_tokens[1]
    set positional_index 0
    while true
        set -e unparsed_tokens[1]
        argparse -sn "$commands" $option_specs -- $unparsed_tokens 2> /dev/null
        set unparsed_tokens $argv
        set positional_index (math $positional_index + 1)
        for non_repeating_flag_or_option in $non_repeating_flags_or_options
            if set -ql "_flag_$(string replace -a - _ -- $non_repeating_flag_or_option)"
                set non_repeating_flags_or_options_absent 1
                break
            end
        end
        test (count $unparsed_tokens) -eq 0 -o \( -z "$is_repeating_positional" -a "$positional_index" -gt "$positional_count" \) && break
    end
end

function __chsk_complete_directories
    set -l token (commandline -t)
    string match -- '*/' $token
    set -l subdirs $token*/
    printf %s\n $subdirs
end

function __chsk_custom_completion
    set -x SAP_SHELL fish
    set -x SAP_SHELL_VERSION $FISH_VERSION
    set -l tokens (__chsk_tokens -p)
    if test -z "$(__chsk_tokens -t)"
        set -l index (count (__chsk_tokens -pc))
        set tokens $tokens[..$index] \'\' $tokens[(math $index + 1)..]
    end
    command $tokens[1] $argv $tokens
end

complete -c 'chsk' -f
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk" version' -l 'version' -d 'Show the version.'
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'chsk' -n '__chsk_should_offer_completions_for_positional "chsk" -eq 1' -fa 'serve' -d 'Run a Sente channel-socket server (WebSocket + Ajax long-poll) with a command prompt.'
complete -c 'chsk' -n '__chsk_should_offer_completions_for_positional "chsk" -eq 1' -fa 'connect' -d 'Interactive REPL to a Sente server: send events, make requests, watch pushes.'
complete -c 'chsk' -n '__chsk_should_offer_completions_for_positional "chsk" -eq 1' -fa 'send' -d 'Send one event to a Sente server; with --reply, wait for and print the reply.'
complete -c 'chsk' -n '__chsk_should_offer_completions_for_positional "chsk" -eq 1' -fa 'await' -d 'Wait for events pushed by a Sente server and print them, one per line.'
complete -c 'chsk' -n '__chsk_should_offer_completions_for_positional "chsk" -eq 1' -fa 'watch' -d 'Print every state transition of a client as it happens (keeps reconnecting).'
complete -c 'chsk' -n '__chsk_should_offer_completions_for_positional "chsk" -eq 1' -fa 'bench' -d 'Load-test a Sente server: idle connections, request/reply, push fan-out, Ajax.'
complete -c 'chsk' -n '__chsk_should_offer_completions_for_positional "chsk" -eq 1' -fa 'convert' -d 'Convert values between EDN, JSON and Transit (JSON, JSON-verbose, MessagePack).'
complete -c 'chsk' -n '__chsk_should_offer_completions_for_positional "chsk" -eq 1' -fa 'pack' -d 'Read EDN (or JSON) values and print them as a packer\'s payload.'
complete -c 'chsk' -n '__chsk_should_offer_completions_for_positional "chsk" -eq 1' -fa 'unpack' -d 'Read a packer\'s payloads (optionally Sente-framed) and print them as EDN or JSON.'
complete -c 'chsk' -n '__chsk_should_offer_completions_for_positional "chsk" -eq 1' -fa 'help' -d 'Show subcommand help information.'
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk serve" host' -l 'host' -d 'Address to bind.' -rfka ''
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk serve" port' -l 'port' -d 'Port (0 picks a free one and prints it).' -rfka ''
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk serve" path' -l 'path' -d 'Channel socket path.' -rfka ''
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk serve" packer' -l 'packer' -d 'Payload format (Sente\'s packers; transit-msgpack is not one).' -rfka 'edn transit-json transit-json-verbose'
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk serve" wire' -l 'wire' -d 'Wire generation: auto (v1 and v2 side by side), v1 (Sente <= 1.16) or v2 (1.18+).' -rfka 'auto v1 v2'
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk serve" csrf-token' -l 'csrf-token' -d 'Require this CSRF token (param csrf-token or X-CSRF-Token header); no check when absent.' -rfka ''
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk serve"' -l 'allowed-origin' -d 'Allowed Origin (repeatable); all when absent.' -rfka ''
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk serve" uid-param' -l 'uid-param' -d 'Request parameter holding the user id (default: uid).' -rfka ''
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk serve" uid-header' -l 'uid-header' -d 'Take the user id from this header instead of a parameter.' -rfka ''
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk serve" uid-cookie' -l 'uid-cookie' -d 'Take the user id from this cookie instead of a parameter.' -rfka ''
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk serve" static' -l 'static' -d 'Serve this folder\'s files on the same origin.' -rfa '(__chsk_complete_directories)'
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk serve" echo' -l 'echo' -d 'Run the reference echo app (see above).'
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk serve" redis' -l 'redis' -d 'Join a cluster of chsk serve nodes over this Redis (redis://[[user]:password@]host[:port][/db] or unix:///path): push, broadcast, [:chsk/close] and connected uids span every node.' -rfka ''
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk serve" node-id' -l 'node-id' -d 'This node\'s id in the cluster (with --redis; default: host name, process id and a random part).' -rfka ''
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk serve" cluster-name' -l 'cluster-name' -d 'Nodes with the same --redis and cluster name form one cluster.' -rfka ''
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk serve" cluster-heartbeat-ms' -l 'cluster-heartbeat-ms' -d 'How often a node renews its heartbeat in Redis and sweeps expired nodes.' -rfka ''
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk serve" cluster-ttl-ms' -l 'cluster-ttl-ms' -d 'A node silent this long leaves the cluster (its uids close on a surviving node at its next heartbeat).' -rfka ''
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk serve" metrics' -l 'metrics' -d 'Serve Prometheus metrics (connections, events, bytes, pushes, held polls, refusals by reason, queue bytes, event-loop stalls, push latency) at GET --metrics-path.'
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk serve" metrics-path' -l 'metrics-path' -d 'Path of the metrics endpoint (with --metrics).' -rfka ''
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk serve" no-websocket' -l 'no-websocket' -d 'Refuse WebSocket upgrades (Ajax only; auto clients fall back).'
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk serve" ws-kalive-ms' -l 'ws-kalive-ms' -d 'Server keep-alive window (halved for v2 clients, as Sente does).' -rfka ''
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk serve" ws-ping-timeout-ms' -l 'ws-ping-timeout-ms' -d 'Close a v2 client that does not answer a ping within this.' -rfka ''
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk serve" lp-timeout-ms' -l 'lp-timeout-ms' -d 'Long-poll hold time (< 60000).' -rfka ''
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk serve" send-buf-ms-ws' -l 'send-buf-ms-ws' -d 'Push batching window for WebSocket clients.' -rfka ''
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk serve" send-buf-ms-ajax' -l 'send-buf-ms-ajax' -d 'Push batching window for Ajax clients.' -rfka ''
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk serve" max-message-bytes' -l 'max-message-bytes' -d 'Largest inbound message (WS close 1009 / HTTP 413 beyond).' -rfka ''
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk serve" tls-cert' -l 'tls-cert' -d 'PEM certificate chain for HTTPS/WSS (with --tls-key).' -rF
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk serve" tls-key' -l 'tls-key' -d 'PEM private key for HTTPS/WSS.' -rF
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk serve" max-push-bytes' -l 'max-push-bytes' -d 'Largest push frame or Ajax answer; batches are split to fit, a larger single event is refused (default: --max-message-bytes).' -rfka ''
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk serve" max-ajax-pending-bytes' -l 'max-ajax-pending-bytes' -d 'Pushes waiting for one Ajax client between polls; past it the client is dropped and resyncs.' -rfka ''
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk serve" header-timeout' -l 'header-timeout' -d 'Seconds a client has to send its first request head (408 and close after).' -rfka ''
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk serve" body-timeout' -l 'body-timeout' -d 'Seconds a request body may take after its head (408 and close after).' -rfka ''
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk serve" idle-timeout' -l 'idle-timeout' -d 'Seconds a keep-alive HTTP connection may sit idle (a held poll is not idle).' -rfka ''
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk serve" max-header-bytes' -l 'max-header-bytes' -d 'Largest request head in bytes (431 beyond; one line at most half of it).' -rfka ''
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk serve" max-queued-bytes' -l 'max-queued-bytes' -d 'Bytes that may wait for a WebSocket client that does not read; closed beyond.' -rfka ''
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk serve" write-stall-timeout' -l 'write-stall-timeout' -d 'Seconds a WebSocket client may read nothing while data waits for it (closed 1008 after).' -rfka ''
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk serve" shutdown-timeout' -l 'shutdown-timeout' -d 'Seconds a graceful shutdown waits for connections before dropping them; a second signal exits at once.' -rfka ''
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk serve" log-level' -l 'log-level' -d 'debug (every event), info, warning.' -rfka 'debug info warning'
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk serve" version' -l 'version' -d 'Show the version.'
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk serve" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk connect" type' -l 'type' -d 'Transport: auto (WebSocket, Ajax fallback), ws or ajax.' -rfka 'auto ws ajax'
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk connect" packer' -l 'packer' -d 'Payload format (the server\'s): edn, transit-json or transit-json-verbose.' -rfka 'edn transit-json transit-json-verbose'
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk connect" protocol' -l 'protocol' -d 'Wire generation: auto (from the handshake), v1 (Sente <= 1.16) or v2 (1.18+).' -rfka 'auto v1 v2'
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk connect" csrf-token' -l 'csrf-token' -d 'CSRF token (param csrf-token and X-CSRF-Token header).' -rfka ''
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk connect"' -l 'param' -d 'Extra query parameter k=v (repeatable).' -rfka ''
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk connect"' -l 'header' -d 'Extra header k:v (repeatable).' -rfka ''
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk connect" client-id' -l 'client-id' -d 'Client id (default: a random UUID).' -rfka ''
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk connect" uid' -l 'uid' -d 'User id, sent as the uid parameter (what chsk serve reads).' -rfka ''
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk connect" connect-timeout' -l 'connect-timeout' -d 'Seconds to wait for the connection to open.' -rfka ''
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk connect"' -l 'cookie' -d 'Cookie name=value sent with every request (repeatable), e.g. a Ring session.' -rfka ''
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk connect" cacert' -l 'cacert' -d 'PEM file of the CA (or self-signed) certificate(s) to trust for wss:// and https://.' -rF
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk connect" insecure' -l 'insecure' -d 'Do not check the server\'s TLS certificate (wss://, https://): encrypted, not authenticated.'
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk connect" timeout' -l 'timeout' -d 'Default request timeout in seconds.' -rfka ''
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk connect" json' -l 'json' -d 'Print incoming events and replies as JSON (what JSON loses is named, as by chsk convert).'
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk connect" pretty' -l 'pretty' -d 'Print incoming events and replies as indented JSON (implies --json).'
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk connect" version' -l 'version' -d 'Show the version.'
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk connect" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk send" type' -l 'type' -d 'Transport: auto (WebSocket, Ajax fallback), ws or ajax.' -rfka 'auto ws ajax'
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk send" packer' -l 'packer' -d 'Payload format (the server\'s): edn, transit-json or transit-json-verbose.' -rfka 'edn transit-json transit-json-verbose'
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk send" protocol' -l 'protocol' -d 'Wire generation: auto (from the handshake), v1 (Sente <= 1.16) or v2 (1.18+).' -rfka 'auto v1 v2'
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk send" csrf-token' -l 'csrf-token' -d 'CSRF token (param csrf-token and X-CSRF-Token header).' -rfka ''
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk send"' -l 'param' -d 'Extra query parameter k=v (repeatable).' -rfka ''
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk send"' -l 'header' -d 'Extra header k:v (repeatable).' -rfka ''
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk send" client-id' -l 'client-id' -d 'Client id (default: a random UUID).' -rfka ''
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk send" uid' -l 'uid' -d 'User id, sent as the uid parameter (what chsk serve reads).' -rfka ''
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk send" connect-timeout' -l 'connect-timeout' -d 'Seconds to wait for the connection to open.' -rfka ''
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk send"' -l 'cookie' -d 'Cookie name=value sent with every request (repeatable), e.g. a Ring session.' -rfka ''
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk send" cacert' -l 'cacert' -d 'PEM file of the CA (or self-signed) certificate(s) to trust for wss:// and https://.' -rF
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk send" insecure' -l 'insecure' -d 'Do not check the server\'s TLS certificate (wss://, https://): encrypted, not authenticated.'
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk send" reply' -l 'reply' -d 'Ask for a reply and print it.'
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk send" timeout' -l 'timeout' -d 'Seconds to wait for the reply.' -rfka ''
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk send" json' -l 'json' -d 'Print the reply as JSON (what JSON loses is named on stderr, as by chsk convert).'
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk send" pretty' -l 'pretty' -d 'Print the reply as indented JSON (implies --json).'
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk send" version' -l 'version' -d 'Show the version.'
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk send" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk await" type' -l 'type' -d 'Transport: auto (WebSocket, Ajax fallback), ws or ajax.' -rfka 'auto ws ajax'
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk await" packer' -l 'packer' -d 'Payload format (the server\'s): edn, transit-json or transit-json-verbose.' -rfka 'edn transit-json transit-json-verbose'
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk await" protocol' -l 'protocol' -d 'Wire generation: auto (from the handshake), v1 (Sente <= 1.16) or v2 (1.18+).' -rfka 'auto v1 v2'
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk await" csrf-token' -l 'csrf-token' -d 'CSRF token (param csrf-token and X-CSRF-Token header).' -rfka ''
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk await"' -l 'param' -d 'Extra query parameter k=v (repeatable).' -rfka ''
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk await"' -l 'header' -d 'Extra header k:v (repeatable).' -rfka ''
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk await" client-id' -l 'client-id' -d 'Client id (default: a random UUID).' -rfka ''
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk await" uid' -l 'uid' -d 'User id, sent as the uid parameter (what chsk serve reads).' -rfka ''
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk await" connect-timeout' -l 'connect-timeout' -d 'Seconds to wait for the connection to open.' -rfka ''
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk await"' -l 'cookie' -d 'Cookie name=value sent with every request (repeatable), e.g. a Ring session.' -rfka ''
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk await" cacert' -l 'cacert' -d 'PEM file of the CA (or self-signed) certificate(s) to trust for wss:// and https://.' -rF
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk await" insecure' -l 'insecure' -d 'Do not check the server\'s TLS certificate (wss://, https://): encrypted, not authenticated.'
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk await"' -l 'event' -d 'Event id to wait for (repeatable; default any).' -rfka ''
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk await" count' -l 'count' -d 'How many matching events to wait for.' -rfka ''
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk await" timeout' -l 'timeout' -d 'Seconds to wait in all.' -rfka ''
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk await" json' -l 'json' -d 'Print events as JSON (what JSON loses is named on stderr, as by chsk convert).'
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk await" pretty' -l 'pretty' -d 'Print events as indented JSON (implies --json).'
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk await" version' -l 'version' -d 'Show the version.'
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk await" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk watch" type' -l 'type' -d 'Transport: auto (WebSocket, Ajax fallback), ws or ajax.' -rfka 'auto ws ajax'
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk watch" packer' -l 'packer' -d 'Payload format (the server\'s): edn, transit-json or transit-json-verbose.' -rfka 'edn transit-json transit-json-verbose'
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk watch" protocol' -l 'protocol' -d 'Wire generation: auto (from the handshake), v1 (Sente <= 1.16) or v2 (1.18+).' -rfka 'auto v1 v2'
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk watch" csrf-token' -l 'csrf-token' -d 'CSRF token (param csrf-token and X-CSRF-Token header).' -rfka ''
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk watch"' -l 'param' -d 'Extra query parameter k=v (repeatable).' -rfka ''
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk watch"' -l 'header' -d 'Extra header k:v (repeatable).' -rfka ''
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk watch" client-id' -l 'client-id' -d 'Client id (default: a random UUID).' -rfka ''
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk watch" uid' -l 'uid' -d 'User id, sent as the uid parameter (what chsk serve reads).' -rfka ''
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk watch" connect-timeout' -l 'connect-timeout' -d 'Seconds to wait for the connection to open.' -rfka ''
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk watch"' -l 'cookie' -d 'Cookie name=value sent with every request (repeatable), e.g. a Ring session.' -rfka ''
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk watch" cacert' -l 'cacert' -d 'PEM file of the CA (or self-signed) certificate(s) to trust for wss:// and https://.' -rF
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk watch" insecure' -l 'insecure' -d 'Do not check the server\'s TLS certificate (wss://, https://): encrypted, not authenticated.'
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk watch" json' -l 'json' -d 'JSON lines for machines.'
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk watch" pretty' -l 'pretty' -d 'Indented JSON, one object per transition (implies --json).'
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk watch" seconds' -l 'seconds' -d 'Stop after this many seconds (default: run until interrupted).' -rfka ''
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk watch" version' -l 'version' -d 'Show the version.'
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk watch" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'chsk' -n '__chsk_should_offer_completions_for_positional "chsk bench" -eq 1' -fka 'conns echo fanout ajax burst'
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk bench" connections' -l 'connections' -d 'Number of clients (at most 19000).' -rfka ''
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk bench" duration' -l 'duration' -d 'Seconds to run (to hold, for conns; the reply timeout, for burst).' -rfka ''
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk bench" rate' -l 'rate' -d 'Total requests per second for echo (default: back to back).' -rfka ''
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk bench" uids' -l 'uids' -d 'Number of uids for fanout/ajax (and conns, where clients share them in turn).' -rfka ''
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk bench" uid-prefix' -l 'uid-prefix' -d 'For conns: the uids are this prefix and a number (distinct prefixes give several benches distinct uids).' -rfka ''
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk bench" path' -l 'path' -d 'The server\'s channel socket path (to find /broadcast beside it).' -rfka ''
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk bench" trigger' -l 'trigger' -d 'For fanout/ajax: the server whose /broadcast (or /push-each) makes the pushes (another node of a cluster), or none: only receive, another bench triggers.' -rfka ''
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk bench" interval-ms' -l 'interval-ms' -d 'For fanout/ajax: pause between two rounds of pushes (0: back to back, to find the rate a server sustains).' -rfka ''
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk bench" per-uid' -l 'per-uid' -d 'For fanout/ajax: one push per connected uid (GET /push-each) instead of one broadcast.'
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk bench" type' -l 'type' -d 'Transport: ws or ajax.' -rfka 'auto ws ajax'
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk bench" protocol' -l 'protocol' -d 'Wire generation: auto, v1 or v2.' -rfka 'auto v1 v2'
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk bench" csrf-token' -l 'csrf-token' -d 'CSRF token.' -rfka ''
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk bench" server-pid' -l 'server-pid' -d 'The server\'s PID, for CPU and RSS figures.' -rfka ''
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk bench" client' -l 'client' -d 'Clients for fanout and ajax: full or lean.' -rfka 'full lean'
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk bench" json' -l 'json' -d 'Print the result as JSON.'
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk bench" pretty' -l 'pretty' -d 'Print the result as indented JSON (implies --json).'
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk bench" cacert' -l 'cacert' -d 'PEM file of the CA (or self-signed) certificate(s) to trust for wss:// and https://.' -rF
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk bench" insecure' -l 'insecure' -d 'Do not check the server\'s TLS certificate (wss://, https://): encrypted, not authenticated.'
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk bench" version' -l 'version' -d 'Show the version.'
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk bench" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'chsk' -n '__chsk_should_offer_completions_for_positional "chsk convert" -ge 1' -F
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk convert" from' -l 'from' -d 'Input format.' -rfka 'edn json transit-json transit-json-verbose transit-msgpack'
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk convert" to' -l 'to' -d 'Output format.' -rfka 'edn json transit-json transit-json-verbose transit-msgpack'
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk convert" pretty' -l 'pretty' -d 'Indented output for humans (EDN, JSON, Transit JSON).'
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk convert" sort' -l 'sort' -d 'Print map entries and set members in a canonical (sorted) order, for diffs.'
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk convert" keywordize' -l 'keywordize' -d 'With --from json: object keys become keywords ({"a":1} → {:a 1}).'
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk convert" no-keywordize' -l 'no-keywordize' -d 'With --from json: object keys become keywords ({"a":1} → {:a 1}).'
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk convert" binary' -l 'binary' -d 'Allow binary output (transit-msgpack) on a terminal.'
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk convert" transit-cache' -l 'transit-cache' -d 'Transit cache string lengths: utf16 (transit-java/js peers) or scalars (transit-python).' -rfka 'utf16 scalars'
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk convert" version' -l 'version' -d 'Show the version.'
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk convert" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'chsk' -n '__chsk_should_offer_completions_for_positional "chsk pack" -ge 1' -F
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk pack" from' -l 'from' -d 'Input format of the values.' -rfka 'edn json'
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk pack" packer' -l 'packer' -d 'Payload format: edn, transit-json, transit-json-verbose, transit-msgpack.' -rfka 'edn transit-json transit-json-verbose transit-msgpack'
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk pack" frame' -l 'frame' -d 'Wrap each value in Sente framing: none, v1 (-x / +[x cb]) or v2 ([x cb]).' -rfka 'none auto v1 v2'
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk pack" cb' -l 'cb' -d 'Callback id for the framing (e.g. a1b2c3, 0, :ajax); needs --frame v1 or v2.' -rfka ''
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk pack" pretty' -l 'pretty' -d 'Indented output for humans (EDN, or JSON for the Transit JSON packers; no framing).'
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk pack" sort' -l 'sort' -d 'Print map entries and set members in a canonical (sorted) order, for diffs.'
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk pack" single' -l 'single' -d 'Exactly one value per input (like read-string); more is an error.'
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk pack" keywordize' -l 'keywordize' -d 'With --from json: object keys become keywords ({"a":1} → {:a 1}).'
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk pack" no-keywordize' -l 'no-keywordize' -d 'With --from json: object keys become keywords ({"a":1} → {:a 1}).'
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk pack" binary' -l 'binary' -d 'Allow binary output (transit-msgpack) on a terminal.'
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk pack" transit-cache' -l 'transit-cache' -d 'Transit cache string lengths: utf16 (transit-java/js peers) or scalars (transit-python).' -rfka 'utf16 scalars'
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk pack" version' -l 'version' -d 'Show the version.'
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk pack" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'chsk' -n '__chsk_should_offer_completions_for_positional "chsk unpack" -ge 1' -F
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk unpack" packer' -l 'packer' -d 'Payload format: edn, transit-json, transit-json-verbose, transit-msgpack.' -rfka 'edn transit-json transit-json-verbose transit-msgpack'
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk unpack" frame' -l 'frame' -d 'Sente framing of each line: none, auto, v1 or v2.' -rfka 'none auto v1 v2'
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk unpack" to' -l 'to' -d 'Output format.' -rfka 'edn json'
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk unpack" pretty' -l 'pretty' -d 'Indented EDN or JSON for humans.'
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk unpack" transit-cache' -l 'transit-cache' -d 'Transit cache string lengths: utf16 (transit-java/js peers) or scalars (transit-python).' -rfka 'utf16 scalars'
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk unpack" version' -l 'version' -d 'Show the version.'
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk unpack" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk help" version' -l 'version' -d 'Show the version.'
