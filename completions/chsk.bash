#!/bin/bash

__chsk_cursor_index_in_current_word() {
    local remaining="${COMP_LINE}"

    local word
    for word in "${COMP_WORDS[@]::COMP_CWORD}"; do
        remaining="${remaining##*([[:space:]])"${word}"*([[:space:]])}"
    done

    local -ir index="$((COMP_POINT - ${#COMP_LINE} + ${#remaining}))"
    if [[ "${index}" -le 0 ]]; then
        printf 0
    else
        printf %s "${index}"
    fi
}

# positional arguments:
#
# - 1: the current (sub)command's count of positional arguments
#
# required variables:
#
# - repeating_flags: the repeating flags that the current (sub)command can accept
# - non_repeating_flags: the non-repeating flags that the current (sub)command can accept
# - repeating_options: the repeating options that the current (sub)command can accept
# - non_repeating_options: the non-repeating options that the current (sub)command can accept
# - positional_number: value ignored
# - unparsed_words: unparsed words from the current command line
#
# modified variables:
#
# - non_repeating_flags: remove flags for this (sub)command that are already on the command line
# - non_repeating_options: remove options for this (sub)command that are already on the command line
# - positional_number: set to the current positional number
# - unparsed_words: remove all flags, options, and option values for this (sub)command
__chsk_offer_flags_options() {
    local -ir positional_count="${1}"
    positional_number=0

    local was_flag_option_terminator_seen=false
    local is_parsing_option_value=false

    local -ar unparsed_word_indices=("${!unparsed_words[@]}")
    local -i word_index
    for word_index in "${unparsed_word_indices[@]}"; do
        if "${is_parsing_option_value}"; then
            # This word is an option value:
            # Reset marker for next word iff not currently the last word
            [[ "${word_index}" -ne "${unparsed_word_indices[${#unparsed_word_indices[@]} - 1]}" ]] && is_parsing_option_value=false
            unset "unparsed_words[${word_index}]"
            # Do not process this word as a flag or an option
            continue
        fi

        local word="${unparsed_words["${word_index}"]}"
        if ! "${was_flag_option_terminator_seen}"; then
            case "${word}" in
            --)
                unset "unparsed_words[${word_index}]"
                # by itself -- is a flag/option terminator, but if it is the last word, it is the start of a completion
                if [[ "${word_index}" -ne "${unparsed_word_indices[${#unparsed_word_indices[@]} - 1]}" ]]; then
                    was_flag_option_terminator_seen=true
                fi
                continue
                ;;
            -*)
                # ${word} is a flag or an option
                # If ${word} is an option, mark that the next word to be parsed is an option value
                local option
                for option in "${repeating_options[@]}" "${non_repeating_options[@]}"; do
                    [[ "${word}" = "${option}" ]] && is_parsing_option_value=true && break
                done

                # Remove ${word} from ${non_repeating_flags} or ${non_repeating_options} so it isn't offered again
                local not_found=true
                local -i index
                for index in "${!non_repeating_flags[@]}"; do
                    if [[ "${non_repeating_flags[${index}]}" = "${word}" ]]; then
                        unset "non_repeating_flags[${index}]"
                        non_repeating_flags=("${non_repeating_flags[@]}")
                        not_found=false
                        break
                    fi
                done
                if "${not_found}"; then
                    for index in "${!non_repeating_flags[@]}"; do
                        if [[ "${non_repeating_flags[${index}]}" = "${word}" ]]; then
                            unset "non_repeating_flags[${index}]"
                            non_repeating_flags=("${non_repeating_flags[@]}")
                            break
                        fi
                    done
                fi
                unset "unparsed_words[${word_index}]"
                continue
                ;;
            esac
        fi

        # ${word} is neither a flag, nor an option, nor an option value
        if [[ "${positional_number}" -lt "${positional_count}" || "${positional_count}" -lt 0 ]]; then
            # ${word} is a positional
            ((positional_number++))
            unset "unparsed_words[${word_index}]"
        else
            if [[ -z "${word}" ]]; then
                # Could be completing a flag, option, or subcommand
                positional_number=-1
            else
                # ${word} is a subcommand or invalid, so stop processing this (sub)command
                positional_number=-2
            fi
            break
        fi
    done

    unparsed_words=("${unparsed_words[@]}")

    if\
        ! "${was_flag_option_terminator_seen}"\
        && ! "${is_parsing_option_value}"\
        && [[ ("${cur}" = -* && "${positional_number}" -ge 0) || "${positional_number}" -eq -1 ]]
    then
        COMPREPLY+=($(compgen -W "${repeating_flags[*]} ${non_repeating_flags[*]} ${repeating_options[*]} ${non_repeating_options[*]}" -- "${cur}"))
    fi
}

__chsk_add_completions() {
    local completion
    while IFS='' read -r completion; do
        COMPREPLY+=("${completion}")
    done < <(IFS=$'\n' compgen "${@}" -- "${cur}")
}

__chsk_custom_complete() {
    if [[ -n "${cur}" || -z ${COMP_WORDS[${COMP_CWORD}]} || "${COMP_LINE:${COMP_POINT}:1}" != ' ' ]]; then
        local -ar words=("${COMP_WORDS[@]}")
    else
        local -ar words=("${COMP_WORDS[@]::${COMP_CWORD}}" '' "${COMP_WORDS[@]:${COMP_CWORD}}")
    fi

    "${COMP_WORDS[0]}" "${@}" "${words[@]}"
}

_chsk() {
    local state
    state="$(shopt -p;shopt -po)"
    trap "${state//$'\n'/;}" RETURN
    shopt -s extglob
    set +o history +o posix

    local -xr SAP_SHELL=bash
    local -x SAP_SHELL_VERSION
    SAP_SHELL_VERSION="$(IFS='.';printf %s "${BASH_VERSINFO[*]}")"
    local -r SAP_SHELL_VERSION

    local -r cur="${2}"
    local -r prev="${3}"

    local -i positional_number
    local -a unparsed_words=("${COMP_WORDS[@]:1:${COMP_CWORD}}")

    local -a repeating_flags=()
    local -a non_repeating_flags=(--version -h --help)
    local -a repeating_options=()
    local -a non_repeating_options=()
    __chsk_offer_flags_options 0

    # Offer subcommand / subcommand argument completions
    local -r subcommand="${unparsed_words[0]}"
    unset 'unparsed_words[0]'
    unparsed_words=("${unparsed_words[@]}")
    case "${subcommand}" in
    serve|connect|send|await|watch|bench|convert|pack|unpack|help)
        # Offer subcommand argument completions
        "_chsk_${subcommand}"
        ;;
    *)
        # Offer subcommand completions
        COMPREPLY+=($(compgen -W 'serve connect send await watch bench convert pack unpack help' -- "${cur}"))
        ;;
    esac
}

_chsk_serve() {
    repeating_flags=()
    non_repeating_flags=(--echo --metrics --no-websocket --version -h --help)
    repeating_options=(--allowed-origin)
    non_repeating_options=(--host --port --path --packer --wire --csrf-token --uid-param --uid-header --uid-cookie --static --redis --node-id --cluster-name --cluster-heartbeat-ms --cluster-ttl-ms --metrics-path --ws-kalive-ms --ws-ping-timeout-ms --lp-timeout-ms --send-buf-ms-ws --send-buf-ms-ajax --max-message-bytes --tls-cert --tls-key --max-push-bytes --max-ajax-pending-bytes --header-timeout --body-timeout --idle-timeout --max-header-bytes --max-queued-bytes --write-stall-timeout --shutdown-timeout --log-level)
    __chsk_offer_flags_options 0

    # Offer option value completions
    case "${prev}" in
    '--host')
        return
        ;;
    '--port')
        return
        ;;
    '--path')
        return
        ;;
    '--packer')
        __chsk_add_completions -W 'edn'$'\n''transit-json'$'\n''transit-json-verbose'
        return
        ;;
    '--wire')
        __chsk_add_completions -W 'auto'$'\n''v1'$'\n''v2'
        return
        ;;
    '--csrf-token')
        return
        ;;
    '--allowed-origin')
        return
        ;;
    '--uid-param')
        return
        ;;
    '--uid-header')
        return
        ;;
    '--uid-cookie')
        return
        ;;
    '--static')
        __chsk_add_completions -d
        return
        ;;
    '--redis')
        return
        ;;
    '--node-id')
        return
        ;;
    '--cluster-name')
        return
        ;;
    '--cluster-heartbeat-ms')
        return
        ;;
    '--cluster-ttl-ms')
        return
        ;;
    '--metrics-path')
        return
        ;;
    '--ws-kalive-ms')
        return
        ;;
    '--ws-ping-timeout-ms')
        return
        ;;
    '--lp-timeout-ms')
        return
        ;;
    '--send-buf-ms-ws')
        return
        ;;
    '--send-buf-ms-ajax')
        return
        ;;
    '--max-message-bytes')
        return
        ;;
    '--tls-cert')
        __chsk_add_completions -f
        return
        ;;
    '--tls-key')
        __chsk_add_completions -f
        return
        ;;
    '--max-push-bytes')
        return
        ;;
    '--max-ajax-pending-bytes')
        return
        ;;
    '--header-timeout')
        return
        ;;
    '--body-timeout')
        return
        ;;
    '--idle-timeout')
        return
        ;;
    '--max-header-bytes')
        return
        ;;
    '--max-queued-bytes')
        return
        ;;
    '--write-stall-timeout')
        return
        ;;
    '--shutdown-timeout')
        return
        ;;
    '--log-level')
        __chsk_add_completions -W 'debug'$'\n''info'$'\n''warning'
        return
        ;;
    esac
}

_chsk_connect() {
    repeating_flags=()
    non_repeating_flags=(--insecure --json --pretty --version -h --help)
    repeating_options=(--param --header --cookie)
    non_repeating_options=(--type --packer --protocol --csrf-token --client-id --uid --connect-timeout --cacert --timeout)
    __chsk_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--type')
        __chsk_add_completions -W 'auto'$'\n''ws'$'\n''ajax'
        return
        ;;
    '--packer')
        __chsk_add_completions -W 'edn'$'\n''transit-json'$'\n''transit-json-verbose'
        return
        ;;
    '--protocol')
        __chsk_add_completions -W 'auto'$'\n''v1'$'\n''v2'
        return
        ;;
    '--csrf-token')
        return
        ;;
    '--param')
        return
        ;;
    '--header')
        return
        ;;
    '--client-id')
        return
        ;;
    '--uid')
        return
        ;;
    '--connect-timeout')
        return
        ;;
    '--cookie')
        return
        ;;
    '--cacert')
        __chsk_add_completions -f
        return
        ;;
    '--timeout')
        return
        ;;
    esac
}

_chsk_send() {
    repeating_flags=()
    non_repeating_flags=(--insecure --reply --json --pretty --version -h --help)
    repeating_options=(--param --header --cookie)
    non_repeating_options=(--type --packer --protocol --csrf-token --client-id --uid --connect-timeout --cacert --timeout)
    __chsk_offer_flags_options 2

    # Offer option value completions
    case "${prev}" in
    '--type')
        __chsk_add_completions -W 'auto'$'\n''ws'$'\n''ajax'
        return
        ;;
    '--packer')
        __chsk_add_completions -W 'edn'$'\n''transit-json'$'\n''transit-json-verbose'
        return
        ;;
    '--protocol')
        __chsk_add_completions -W 'auto'$'\n''v1'$'\n''v2'
        return
        ;;
    '--csrf-token')
        return
        ;;
    '--param')
        return
        ;;
    '--header')
        return
        ;;
    '--client-id')
        return
        ;;
    '--uid')
        return
        ;;
    '--connect-timeout')
        return
        ;;
    '--cookie')
        return
        ;;
    '--cacert')
        __chsk_add_completions -f
        return
        ;;
    '--timeout')
        return
        ;;
    esac
}

_chsk_await() {
    repeating_flags=()
    non_repeating_flags=(--insecure --json --pretty --version -h --help)
    repeating_options=(--param --header --cookie --event)
    non_repeating_options=(--type --packer --protocol --csrf-token --client-id --uid --connect-timeout --cacert --count --timeout)
    __chsk_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--type')
        __chsk_add_completions -W 'auto'$'\n''ws'$'\n''ajax'
        return
        ;;
    '--packer')
        __chsk_add_completions -W 'edn'$'\n''transit-json'$'\n''transit-json-verbose'
        return
        ;;
    '--protocol')
        __chsk_add_completions -W 'auto'$'\n''v1'$'\n''v2'
        return
        ;;
    '--csrf-token')
        return
        ;;
    '--param')
        return
        ;;
    '--header')
        return
        ;;
    '--client-id')
        return
        ;;
    '--uid')
        return
        ;;
    '--connect-timeout')
        return
        ;;
    '--cookie')
        return
        ;;
    '--cacert')
        __chsk_add_completions -f
        return
        ;;
    '--event')
        return
        ;;
    '--count')
        return
        ;;
    '--timeout')
        return
        ;;
    esac
}

_chsk_watch() {
    repeating_flags=()
    non_repeating_flags=(--insecure --json --pretty --version -h --help)
    repeating_options=(--param --header --cookie)
    non_repeating_options=(--type --packer --protocol --csrf-token --client-id --uid --connect-timeout --cacert --seconds)
    __chsk_offer_flags_options 1

    # Offer option value completions
    case "${prev}" in
    '--type')
        __chsk_add_completions -W 'auto'$'\n''ws'$'\n''ajax'
        return
        ;;
    '--packer')
        __chsk_add_completions -W 'edn'$'\n''transit-json'$'\n''transit-json-verbose'
        return
        ;;
    '--protocol')
        __chsk_add_completions -W 'auto'$'\n''v1'$'\n''v2'
        return
        ;;
    '--csrf-token')
        return
        ;;
    '--param')
        return
        ;;
    '--header')
        return
        ;;
    '--client-id')
        return
        ;;
    '--uid')
        return
        ;;
    '--connect-timeout')
        return
        ;;
    '--cookie')
        return
        ;;
    '--cacert')
        __chsk_add_completions -f
        return
        ;;
    '--seconds')
        return
        ;;
    esac
}

_chsk_bench() {
    repeating_flags=()
    non_repeating_flags=(--per-uid --json --pretty --insecure --version -h --help)
    repeating_options=()
    non_repeating_options=(--connections --duration --rate --uids --uid-prefix --path --trigger --interval-ms --type --protocol --csrf-token --server-pid --client --cacert)
    __chsk_offer_flags_options 2

    # Offer option value completions
    case "${prev}" in
    '--connections')
        return
        ;;
    '--duration')
        return
        ;;
    '--rate')
        return
        ;;
    '--uids')
        return
        ;;
    '--uid-prefix')
        return
        ;;
    '--path')
        return
        ;;
    '--trigger')
        return
        ;;
    '--interval-ms')
        return
        ;;
    '--type')
        __chsk_add_completions -W 'auto'$'\n''ws'$'\n''ajax'
        return
        ;;
    '--protocol')
        __chsk_add_completions -W 'auto'$'\n''v1'$'\n''v2'
        return
        ;;
    '--csrf-token')
        return
        ;;
    '--server-pid')
        return
        ;;
    '--client')
        __chsk_add_completions -W 'full'$'\n''lean'
        return
        ;;
    '--cacert')
        __chsk_add_completions -f
        return
        ;;
    esac

    # Offer positional completions
    case "${positional_number}" in
    2)
        __chsk_add_completions -W 'conns'$'\n''echo'$'\n''fanout'$'\n''ajax'$'\n''burst'
        return
        ;;
    esac
}

_chsk_convert() {
    repeating_flags=()
    non_repeating_flags=(--pretty --sort --keywordize --no-keywordize --binary --version -h --help)
    repeating_options=()
    non_repeating_options=(--from --to --transit-cache)
    __chsk_offer_flags_options -1

    # Offer option value completions
    case "${prev}" in
    '--from')
        __chsk_add_completions -W 'edn'$'\n''json'$'\n''transit-json'$'\n''transit-json-verbose'$'\n''transit-msgpack'
        return
        ;;
    '--to')
        __chsk_add_completions -W 'edn'$'\n''json'$'\n''transit-json'$'\n''transit-json-verbose'$'\n''transit-msgpack'
        return
        ;;
    '--transit-cache')
        __chsk_add_completions -W 'utf16'$'\n''scalars'
        return
        ;;
    esac

    # Offer positional completions
    case "${positional_number}" in
    *)
        __chsk_add_completions -f
        return
        ;;
    esac
}

_chsk_pack() {
    repeating_flags=()
    non_repeating_flags=(--pretty --sort --single --keywordize --no-keywordize --binary --version -h --help)
    repeating_options=()
    non_repeating_options=(--from --packer --frame --cb --transit-cache)
    __chsk_offer_flags_options -1

    # Offer option value completions
    case "${prev}" in
    '--from')
        __chsk_add_completions -W 'edn'$'\n''json'
        return
        ;;
    '--packer')
        __chsk_add_completions -W 'edn'$'\n''transit-json'$'\n''transit-json-verbose'$'\n''transit-msgpack'
        return
        ;;
    '--frame')
        __chsk_add_completions -W 'none'$'\n''auto'$'\n''v1'$'\n''v2'
        return
        ;;
    '--cb')
        return
        ;;
    '--transit-cache')
        __chsk_add_completions -W 'utf16'$'\n''scalars'
        return
        ;;
    esac

    # Offer positional completions
    case "${positional_number}" in
    *)
        __chsk_add_completions -f
        return
        ;;
    esac
}

_chsk_unpack() {
    repeating_flags=()
    non_repeating_flags=(--pretty --version -h --help)
    repeating_options=()
    non_repeating_options=(--packer --frame --to --transit-cache)
    __chsk_offer_flags_options -1

    # Offer option value completions
    case "${prev}" in
    '--packer')
        __chsk_add_completions -W 'edn'$'\n''transit-json'$'\n''transit-json-verbose'$'\n''transit-msgpack'
        return
        ;;
    '--frame')
        __chsk_add_completions -W 'none'$'\n''auto'$'\n''v1'$'\n''v2'
        return
        ;;
    '--to')
        __chsk_add_completions -W 'edn'$'\n''json'
        return
        ;;
    '--transit-cache')
        __chsk_add_completions -W 'utf16'$'\n''scalars'
        return
        ;;
    esac

    # Offer positional completions
    case "${positional_number}" in
    *)
        __chsk_add_completions -f
        return
        ;;
    esac
}

_chsk_help() {
    repeating_flags=()
    non_repeating_flags=(--version)
    repeating_options=()
    non_repeating_options=()
    __chsk_offer_flags_options -1
}

complete -o filenames -F _chsk chsk
