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
        case 'pack'
            __chsk_parse_subcommand -r 1 'from=' 'packer=' 'frame=' 'cb=' 'pretty' 'sort' 'single' 'keywordize' 'no-keywordize' 'version' 'h/help'
        case 'unpack'
            __chsk_parse_subcommand -r 1 'packer=' 'frame=' 'to=' 'pretty' 'version' 'h/help'
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
complete -c 'chsk' -n '__chsk_should_offer_completions_for_positional "chsk" -eq 1' -fa 'pack' -d 'Read EDN (or JSON) values and print them as a packer\'s payload.'
complete -c 'chsk' -n '__chsk_should_offer_completions_for_positional "chsk" -eq 1' -fa 'unpack' -d 'Read a packer\'s payloads (optionally Sente-framed) and print them as EDN or JSON.'
complete -c 'chsk' -n '__chsk_should_offer_completions_for_positional "chsk" -eq 1' -fa 'help' -d 'Show subcommand help information.'
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk pack" from' -l 'from' -d 'Input format of the values.' -rfka 'edn json'
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk pack" packer' -l 'packer' -d 'Payload format: edn, transit-json, transit-json-verbose, transit-msgpack.' -rfka 'edn transit-json transit-json-verbose transit-msgpack'
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk pack" frame' -l 'frame' -d 'Wrap each value in Sente framing: none, v1 (-x / +[x cb]) or v2 ([x cb]).' -rfka 'none auto v1 v2'
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk pack" cb' -l 'cb' -d 'Callback id for the framing (e.g. a1b2c3, 0, :ajax); needs --frame v1 or v2.' -rfka ''
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk pack" pretty' -l 'pretty' -d 'Indented EDN for humans (EDN packer, no framing).'
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk pack" sort' -l 'sort' -d 'Print map entries and set members in a canonical (sorted) order, for diffs.'
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk pack" single' -l 'single' -d 'Exactly one value per input (like read-string); more is an error.'
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk pack" keywordize' -l 'keywordize' -d 'With --from json: object keys become keywords.'
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk pack" no-keywordize' -l 'no-keywordize' -d 'With --from json: object keys become keywords.'
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk pack" version' -l 'version' -d 'Show the version.'
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk pack" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk unpack" packer' -l 'packer' -d 'Payload format: edn, transit-json, transit-json-verbose, transit-msgpack.' -rfka 'edn transit-json transit-json-verbose transit-msgpack'
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk unpack" frame' -l 'frame' -d 'Sente framing of each line: none, auto, v1 or v2.' -rfka 'none auto v1 v2'
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk unpack" to' -l 'to' -d 'Output format.' -rfka 'edn json'
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk unpack" pretty' -l 'pretty' -d 'Indented EDN for humans.'
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk unpack" version' -l 'version' -d 'Show the version.'
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk unpack" h help' -s 'h' -l 'help' -d 'Show help information.'
complete -c 'chsk' -n '__chsk_should_offer_completions_for_flags_or_options "chsk help" version' -l 'version' -d 'Show the version.'
