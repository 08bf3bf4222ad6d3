# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_peat_global_optspecs
    string join \n dir= o/output= v/verbose q/quiet wide h/help V/version
end

function __fish_peat_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_peat_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_peat_using_subcommand
    set -l cmd (__fish_peat_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c peat -n "__fish_peat_needs_command" -l dir -d 'Persistence directory of the node [default: the platform data dir + /peat]' -r -F
complete -c peat -n "__fish_peat_needs_command" -s o -l output -d 'Output format [default: table on a terminal, json when piped]' -r -f -a "table\t'Aligned columns for people'
json\t'One JSON value (an array for lists)'
ndjson\t'One JSON value per line'"
complete -c peat -n "__fish_peat_needs_command" -s v -l verbose -d 'More logging on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides'
complete -c peat -n "__fish_peat_needs_command" -s q -l quiet -d 'No messages on stderr, only errors (data on stdout is unchanged)'
complete -c peat -n "__fish_peat_needs_command" -l wide -d 'Tables show every cell whole, however wide (default: cut to fit the terminal)'
complete -c peat -n "__fish_peat_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c peat -n "__fish_peat_needs_command" -s V -l version -d 'Print version'
complete -c peat -n "__fish_peat_needs_command" -f -a "init" -d 'Create a node: keys, config and an empty store'
complete -c peat -n "__fish_peat_needs_command" -f -a "upsert" -d 'Create or change documents'
complete -c peat -n "__fish_peat_needs_command" -f -a "query" -d 'Find documents'
complete -c peat -n "__fish_peat_needs_command" -f -a "get" -d 'Print documents by id'
complete -c peat -n "__fish_peat_needs_command" -f -a "remove" -d 'Remove documents'
complete -c peat -n "__fish_peat_needs_command" -f -a "status" -d 'Show the node\'s identity and what it holds'
complete -c peat -n "__fish_peat_needs_command" -f -a "watch" -d 'Stream changes to documents as they happen'
complete -c peat -n "__fish_peat_needs_command" -f -a "peers" -d 'List, add or remove peers'
complete -c peat -n "__fish_peat_needs_command" -f -a "export" -d 'Write documents out as NDJSON or Automerge (a consistent snapshot)'
complete -c peat -n "__fish_peat_needs_command" -f -a "import" -d 'Merge an export file (either format) into the node'
complete -c peat -n "__fish_peat_needs_command" -f -a "backup" -d 'Back up the node: its store and config (and keys if asked) into a new directory'
complete -c peat -n "__fish_peat_needs_command" -f -a "restore" -d 'Restore a node from a backup directory'
complete -c peat -n "__fish_peat_needs_command" -f -a "logs" -d 'Show the node\'s log (node.log)'
complete -c peat -n "__fish_peat_needs_command" -f -a "doctor" -d 'Check the store: every table reads, every document loads and matches its projection'
complete -c peat -n "__fish_peat_needs_command" -f -a "repair" -d 'Salvage a damaged store: copy every readable document into a new one'
complete -c peat -n "__fish_peat_needs_command" -f -a "sync" -d 'Run the node: start, stop, status, wait for peers'
complete -c peat -n "__fish_peat_needs_command" -f -a "completions" -d 'Print a shell completion script'
complete -c peat -n "__fish_peat_needs_command" -f -a "generate" -d 'Write completions and man pages into a directory (for packagers)'
complete -c peat -n "__fish_peat_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c peat -n "__fish_peat_using_subcommand init" -l app-id -d 'Application id: nodes sync only within one app id' -r
complete -c peat -n "__fish_peat_using_subcommand init" -l join -d 'Join the formation of the node that printed this ticket' -r
complete -c peat -n "__fish_peat_using_subcommand init" -l listen -d 'UDP address for the sync endpoint [default: 0.0.0.0:7890]' -r
complete -c peat -n "__fish_peat_using_subcommand init" -l dir -d 'Persistence directory of the node [default: the platform data dir + /peat]' -r -F
complete -c peat -n "__fish_peat_using_subcommand init" -s o -l output -d 'Output format [default: table on a terminal, json when piped]' -r -f -a "table\t'Aligned columns for people'
json\t'One JSON value (an array for lists)'
ndjson\t'One JSON value per line'"
complete -c peat -n "__fish_peat_using_subcommand init" -l force -d 'Replace the keys and config of an initialised directory (documents are kept); refused while its node runs, and asks first on a terminal'
complete -c peat -n "__fish_peat_using_subcommand init" -s y -l yes -d 'Do not ask before --force replaces a node'
complete -c peat -n "__fish_peat_using_subcommand init" -s v -l verbose -d 'More logging on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides'
complete -c peat -n "__fish_peat_using_subcommand init" -s q -l quiet -d 'No messages on stderr, only errors (data on stdout is unchanged)'
complete -c peat -n "__fish_peat_using_subcommand init" -l wide -d 'Tables show every cell whole, however wide (default: cut to fit the terminal)'
complete -c peat -n "__fish_peat_using_subcommand init" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c peat -n "__fish_peat_using_subcommand upsert" -s s -l set -d 'Set one path, e.g. pos.lat=59.3 or tags[0]=red (repeatable)' -r
complete -c peat -n "__fish_peat_using_subcommand upsert" -l json -d 'The document as a JSON object' -r
complete -c peat -n "__fish_peat_using_subcommand upsert" -s f -l file -d 'Read documents from a file (\'-\' for stdin)' -r -F
complete -c peat -n "__fish_peat_using_subcommand upsert" -l wait-for-sync -d 'Then wait until connected peers hold the change (default 30s; needs a running node)' -r
complete -c peat -n "__fish_peat_using_subcommand upsert" -l dir -d 'Persistence directory of the node [default: the platform data dir + /peat]' -r -F
complete -c peat -n "__fish_peat_using_subcommand upsert" -s o -l output -d 'Output format [default: table on a terminal, json when piped]' -r -f -a "table\t'Aligned columns for people'
json\t'One JSON value (an array for lists)'
ndjson\t'One JSON value per line'"
complete -c peat -n "__fish_peat_using_subcommand upsert" -l replace -d 'Make each document equal to the input (drop fields it does not name)'
complete -c peat -n "__fish_peat_using_subcommand upsert" -s v -l verbose -d 'More logging on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides'
complete -c peat -n "__fish_peat_using_subcommand upsert" -s q -l quiet -d 'No messages on stderr, only errors (data on stdout is unchanged)'
complete -c peat -n "__fish_peat_using_subcommand upsert" -l wide -d 'Tables show every cell whole, however wide (default: cut to fit the terminal)'
complete -c peat -n "__fish_peat_using_subcommand upsert" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c peat -n "__fish_peat_using_subcommand query" -s w -l where -d 'Filter expression (repeatable; all must hold)' -r
complete -c peat -n "__fish_peat_using_subcommand query" -s n -l limit -d 'Return at most N documents (0: all; on a terminal the default is the first 100)' -r
complete -c peat -n "__fish_peat_using_subcommand query" -l order-by -d 'Sort by this path (missing values last)' -r
complete -c peat -n "__fish_peat_using_subcommand query" -l fields -d 'Print only these paths, as columns in this order (comma-separated; id is always kept)' -r
complete -c peat -n "__fish_peat_using_subcommand query" -l dir -d 'Persistence directory of the node [default: the platform data dir + /peat]' -r -F
complete -c peat -n "__fish_peat_using_subcommand query" -s o -l output -d 'Output format [default: table on a terminal, json when piped]' -r -f -a "table\t'Aligned columns for people'
json\t'One JSON value (an array for lists)'
ndjson\t'One JSON value per line'"
complete -c peat -n "__fish_peat_using_subcommand query" -l desc -d 'Sort descending'
complete -c peat -n "__fish_peat_using_subcommand query" -l count -d 'Print only the number of matches'
complete -c peat -n "__fish_peat_using_subcommand query" -l include-deleted -d 'Include removed documents (marked "_deleted": true)'
complete -c peat -n "__fish_peat_using_subcommand query" -l deleted-only -d 'Only removed documents'
complete -c peat -n "__fish_peat_using_subcommand query" -s v -l verbose -d 'More logging on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides'
complete -c peat -n "__fish_peat_using_subcommand query" -s q -l quiet -d 'No messages on stderr, only errors (data on stdout is unchanged)'
complete -c peat -n "__fish_peat_using_subcommand query" -l wide -d 'Tables show every cell whole, however wide (default: cut to fit the terminal)'
complete -c peat -n "__fish_peat_using_subcommand query" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c peat -n "__fish_peat_using_subcommand get" -l dir -d 'Persistence directory of the node [default: the platform data dir + /peat]' -r -F
complete -c peat -n "__fish_peat_using_subcommand get" -s o -l output -d 'Output format [default: table on a terminal, json when piped]' -r -f -a "table\t'Aligned columns for people'
json\t'One JSON value (an array for lists)'
ndjson\t'One JSON value per line'"
complete -c peat -n "__fish_peat_using_subcommand get" -s v -l verbose -d 'More logging on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides'
complete -c peat -n "__fish_peat_using_subcommand get" -s q -l quiet -d 'No messages on stderr, only errors (data on stdout is unchanged)'
complete -c peat -n "__fish_peat_using_subcommand get" -l wide -d 'Tables show every cell whole, however wide (default: cut to fit the terminal)'
complete -c peat -n "__fish_peat_using_subcommand get" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c peat -n "__fish_peat_using_subcommand remove" -l wait-for-sync -d 'Then wait until connected peers hold the removal (default 30s; needs a running node)' -r
complete -c peat -n "__fish_peat_using_subcommand remove" -l dir -d 'Persistence directory of the node [default: the platform data dir + /peat]' -r -F
complete -c peat -n "__fish_peat_using_subcommand remove" -s o -l output -d 'Output format [default: table on a terminal, json when piped]' -r -f -a "table\t'Aligned columns for people'
json\t'One JSON value (an array for lists)'
ndjson\t'One JSON value per line'"
complete -c peat -n "__fish_peat_using_subcommand remove" -s v -l verbose -d 'More logging on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides'
complete -c peat -n "__fish_peat_using_subcommand remove" -s q -l quiet -d 'No messages on stderr, only errors (data on stdout is unchanged)'
complete -c peat -n "__fish_peat_using_subcommand remove" -l wide -d 'Tables show every cell whole, however wide (default: cut to fit the terminal)'
complete -c peat -n "__fish_peat_using_subcommand remove" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c peat -n "__fish_peat_using_subcommand status" -l dir -d 'Persistence directory of the node [default: the platform data dir + /peat]' -r -F
complete -c peat -n "__fish_peat_using_subcommand status" -s o -l output -d 'Output format [default: table on a terminal, json when piped]' -r -f -a "table\t'Aligned columns for people'
json\t'One JSON value (an array for lists)'
ndjson\t'One JSON value per line'"
complete -c peat -n "__fish_peat_using_subcommand status" -s v -l verbose -d 'More logging on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides'
complete -c peat -n "__fish_peat_using_subcommand status" -s q -l quiet -d 'No messages on stderr, only errors (data on stdout is unchanged)'
complete -c peat -n "__fish_peat_using_subcommand status" -l wide -d 'Tables show every cell whole, however wide (default: cut to fit the terminal)'
complete -c peat -n "__fish_peat_using_subcommand status" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c peat -n "__fish_peat_using_subcommand watch" -s w -l where -d 'Only documents matching this expression (repeatable; all must hold)' -r
complete -c peat -n "__fish_peat_using_subcommand watch" -s c -l count -d 'Exit after this many events' -r
complete -c peat -n "__fish_peat_using_subcommand watch" -l timeout -d 'Stop after this long (e.g. 30s): exit 0, or 1 if --count events had not come' -r
complete -c peat -n "__fish_peat_using_subcommand watch" -l dir -d 'Persistence directory of the node [default: the platform data dir + /peat]' -r -F
complete -c peat -n "__fish_peat_using_subcommand watch" -s o -l output -d 'Output format [default: table on a terminal, json when piped]' -r -f -a "table\t'Aligned columns for people'
json\t'One JSON value (an array for lists)'
ndjson\t'One JSON value per line'"
complete -c peat -n "__fish_peat_using_subcommand watch" -l no-initial -d 'Skip the current matches; only report changes'
complete -c peat -n "__fish_peat_using_subcommand watch" -l no-reconnect -d 'Exit 1 when the node stops, instead of waiting for it and resuming'
complete -c peat -n "__fish_peat_using_subcommand watch" -s v -l verbose -d 'More logging on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides'
complete -c peat -n "__fish_peat_using_subcommand watch" -s q -l quiet -d 'No messages on stderr, only errors (data on stdout is unchanged)'
complete -c peat -n "__fish_peat_using_subcommand watch" -l wide -d 'Tables show every cell whole, however wide (default: cut to fit the terminal)'
complete -c peat -n "__fish_peat_using_subcommand watch" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c peat -n "__fish_peat_using_subcommand peers; and not __fish_seen_subcommand_from list add remove help" -l dir -d 'Persistence directory of the node [default: the platform data dir + /peat]' -r -F
complete -c peat -n "__fish_peat_using_subcommand peers; and not __fish_seen_subcommand_from list add remove help" -s o -l output -d 'Output format [default: table on a terminal, json when piped]' -r -f -a "table\t'Aligned columns for people'
json\t'One JSON value (an array for lists)'
ndjson\t'One JSON value per line'"
complete -c peat -n "__fish_peat_using_subcommand peers; and not __fish_seen_subcommand_from list add remove help" -s v -l verbose -d 'More logging on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides'
complete -c peat -n "__fish_peat_using_subcommand peers; and not __fish_seen_subcommand_from list add remove help" -s q -l quiet -d 'No messages on stderr, only errors (data on stdout is unchanged)'
complete -c peat -n "__fish_peat_using_subcommand peers; and not __fish_seen_subcommand_from list add remove help" -l wide -d 'Tables show every cell whole, however wide (default: cut to fit the terminal)'
complete -c peat -n "__fish_peat_using_subcommand peers; and not __fish_seen_subcommand_from list add remove help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c peat -n "__fish_peat_using_subcommand peers; and not __fish_seen_subcommand_from list add remove help" -f -a "list" -d 'List known peers and their connection state (the default)'
complete -c peat -n "__fish_peat_using_subcommand peers; and not __fish_seen_subcommand_from list add remove help" -f -a "add" -d 'Remember a peer and connect to it if the node runs'
complete -c peat -n "__fish_peat_using_subcommand peers; and not __fish_seen_subcommand_from list add remove help" -f -a "remove" -d 'Forget a peer and drop its connection'
complete -c peat -n "__fish_peat_using_subcommand peers; and not __fish_seen_subcommand_from list add remove help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c peat -n "__fish_peat_using_subcommand peers; and __fish_seen_subcommand_from list" -l dir -d 'Persistence directory of the node [default: the platform data dir + /peat]' -r -F
complete -c peat -n "__fish_peat_using_subcommand peers; and __fish_seen_subcommand_from list" -s o -l output -d 'Output format [default: table on a terminal, json when piped]' -r -f -a "table\t'Aligned columns for people'
json\t'One JSON value (an array for lists)'
ndjson\t'One JSON value per line'"
complete -c peat -n "__fish_peat_using_subcommand peers; and __fish_seen_subcommand_from list" -s v -l verbose -d 'More logging on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides'
complete -c peat -n "__fish_peat_using_subcommand peers; and __fish_seen_subcommand_from list" -s q -l quiet -d 'No messages on stderr, only errors (data on stdout is unchanged)'
complete -c peat -n "__fish_peat_using_subcommand peers; and __fish_seen_subcommand_from list" -l wide -d 'Tables show every cell whole, however wide (default: cut to fit the terminal)'
complete -c peat -n "__fish_peat_using_subcommand peers; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c peat -n "__fish_peat_using_subcommand peers; and __fish_seen_subcommand_from add" -l dir -d 'Persistence directory of the node [default: the platform data dir + /peat]' -r -F
complete -c peat -n "__fish_peat_using_subcommand peers; and __fish_seen_subcommand_from add" -s o -l output -d 'Output format [default: table on a terminal, json when piped]' -r -f -a "table\t'Aligned columns for people'
json\t'One JSON value (an array for lists)'
ndjson\t'One JSON value per line'"
complete -c peat -n "__fish_peat_using_subcommand peers; and __fish_seen_subcommand_from add" -s v -l verbose -d 'More logging on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides'
complete -c peat -n "__fish_peat_using_subcommand peers; and __fish_seen_subcommand_from add" -s q -l quiet -d 'No messages on stderr, only errors (data on stdout is unchanged)'
complete -c peat -n "__fish_peat_using_subcommand peers; and __fish_seen_subcommand_from add" -l wide -d 'Tables show every cell whole, however wide (default: cut to fit the terminal)'
complete -c peat -n "__fish_peat_using_subcommand peers; and __fish_seen_subcommand_from add" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c peat -n "__fish_peat_using_subcommand peers; and __fish_seen_subcommand_from remove" -l dir -d 'Persistence directory of the node [default: the platform data dir + /peat]' -r -F
complete -c peat -n "__fish_peat_using_subcommand peers; and __fish_seen_subcommand_from remove" -s o -l output -d 'Output format [default: table on a terminal, json when piped]' -r -f -a "table\t'Aligned columns for people'
json\t'One JSON value (an array for lists)'
ndjson\t'One JSON value per line'"
complete -c peat -n "__fish_peat_using_subcommand peers; and __fish_seen_subcommand_from remove" -s v -l verbose -d 'More logging on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides'
complete -c peat -n "__fish_peat_using_subcommand peers; and __fish_seen_subcommand_from remove" -s q -l quiet -d 'No messages on stderr, only errors (data on stdout is unchanged)'
complete -c peat -n "__fish_peat_using_subcommand peers; and __fish_seen_subcommand_from remove" -l wide -d 'Tables show every cell whole, however wide (default: cut to fit the terminal)'
complete -c peat -n "__fish_peat_using_subcommand peers; and __fish_seen_subcommand_from remove" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c peat -n "__fish_peat_using_subcommand peers; and __fish_seen_subcommand_from help" -f -a "list" -d 'List known peers and their connection state (the default)'
complete -c peat -n "__fish_peat_using_subcommand peers; and __fish_seen_subcommand_from help" -f -a "add" -d 'Remember a peer and connect to it if the node runs'
complete -c peat -n "__fish_peat_using_subcommand peers; and __fish_seen_subcommand_from help" -f -a "remove" -d 'Forget a peer and drop its connection'
complete -c peat -n "__fish_peat_using_subcommand peers; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c peat -n "__fish_peat_using_subcommand export" -l format -d 'What each record carries: the document\'s JSON, or its Automerge document with history' -r -f -a "ndjson\t'The JSON of each document: readable, and importable as upserts'
automerge\t'The saved Automerge document with its history: imports merge, tombstones included'"
complete -c peat -n "__fish_peat_using_subcommand export" -l out -d 'Write to FILE instead of stdout (-o is the global output format)' -r -F
complete -c peat -n "__fish_peat_using_subcommand export" -l dir -d 'Persistence directory of the node [default: the platform data dir + /peat]' -r -F
complete -c peat -n "__fish_peat_using_subcommand export" -s o -l output -d 'Output format [default: table on a terminal, json when piped]' -r -f -a "table\t'Aligned columns for people'
json\t'One JSON value (an array for lists)'
ndjson\t'One JSON value per line'"
complete -c peat -n "__fish_peat_using_subcommand export" -l include-deleted -d 'Include removed documents (ndjson; the automerge format always carries tombstones)'
complete -c peat -n "__fish_peat_using_subcommand export" -s v -l verbose -d 'More logging on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides'
complete -c peat -n "__fish_peat_using_subcommand export" -s q -l quiet -d 'No messages on stderr, only errors (data on stdout is unchanged)'
complete -c peat -n "__fish_peat_using_subcommand export" -l wide -d 'Tables show every cell whole, however wide (default: cut to fit the terminal)'
complete -c peat -n "__fish_peat_using_subcommand export" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c peat -n "__fish_peat_using_subcommand import" -l dir -d 'Persistence directory of the node [default: the platform data dir + /peat]' -r -F
complete -c peat -n "__fish_peat_using_subcommand import" -s o -l output -d 'Output format [default: table on a terminal, json when piped]' -r -f -a "table\t'Aligned columns for people'
json\t'One JSON value (an array for lists)'
ndjson\t'One JSON value per line'"
complete -c peat -n "__fish_peat_using_subcommand import" -s v -l verbose -d 'More logging on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides'
complete -c peat -n "__fish_peat_using_subcommand import" -s q -l quiet -d 'No messages on stderr, only errors (data on stdout is unchanged)'
complete -c peat -n "__fish_peat_using_subcommand import" -l wide -d 'Tables show every cell whole, however wide (default: cut to fit the terminal)'
complete -c peat -n "__fish_peat_using_subcommand import" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c peat -n "__fish_peat_using_subcommand backup" -l dir -d 'Persistence directory of the node [default: the platform data dir + /peat]' -r -F
complete -c peat -n "__fish_peat_using_subcommand backup" -s o -l output -d 'Output format [default: table on a terminal, json when piped]' -r -f -a "table\t'Aligned columns for people'
json\t'One JSON value (an array for lists)'
ndjson\t'One JSON value per line'"
complete -c peat -n "__fish_peat_using_subcommand backup" -l include-keys -d 'Also copy identity.key and formation.key (secrets: keep the backup private)'
complete -c peat -n "__fish_peat_using_subcommand backup" -s v -l verbose -d 'More logging on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides'
complete -c peat -n "__fish_peat_using_subcommand backup" -s q -l quiet -d 'No messages on stderr, only errors (data on stdout is unchanged)'
complete -c peat -n "__fish_peat_using_subcommand backup" -l wide -d 'Tables show every cell whole, however wide (default: cut to fit the terminal)'
complete -c peat -n "__fish_peat_using_subcommand backup" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c peat -n "__fish_peat_using_subcommand restore" -l dir -d 'Persistence directory of the node [default: the platform data dir + /peat]' -r -F
complete -c peat -n "__fish_peat_using_subcommand restore" -s o -l output -d 'Output format [default: table on a terminal, json when piped]' -r -f -a "table\t'Aligned columns for people'
json\t'One JSON value (an array for lists)'
ndjson\t'One JSON value per line'"
complete -c peat -n "__fish_peat_using_subcommand restore" -l force -d 'Replace the directory\'s existing store'
complete -c peat -n "__fish_peat_using_subcommand restore" -s v -l verbose -d 'More logging on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides'
complete -c peat -n "__fish_peat_using_subcommand restore" -s q -l quiet -d 'No messages on stderr, only errors (data on stdout is unchanged)'
complete -c peat -n "__fish_peat_using_subcommand restore" -l wide -d 'Tables show every cell whole, however wide (default: cut to fit the terminal)'
complete -c peat -n "__fish_peat_using_subcommand restore" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c peat -n "__fish_peat_using_subcommand logs" -s n -l lines -d 'How many of the last lines to print first' -r
complete -c peat -n "__fish_peat_using_subcommand logs" -l dir -d 'Persistence directory of the node [default: the platform data dir + /peat]' -r -F
complete -c peat -n "__fish_peat_using_subcommand logs" -s o -l output -d 'Output format [default: table on a terminal, json when piped]' -r -f -a "table\t'Aligned columns for people'
json\t'One JSON value (an array for lists)'
ndjson\t'One JSON value per line'"
complete -c peat -n "__fish_peat_using_subcommand logs" -s f -l follow -d 'Follow: print new lines as they are written, until Ctrl-C'
complete -c peat -n "__fish_peat_using_subcommand logs" -s v -l verbose -d 'More logging on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides'
complete -c peat -n "__fish_peat_using_subcommand logs" -s q -l quiet -d 'No messages on stderr, only errors (data on stdout is unchanged)'
complete -c peat -n "__fish_peat_using_subcommand logs" -l wide -d 'Tables show every cell whole, however wide (default: cut to fit the terminal)'
complete -c peat -n "__fish_peat_using_subcommand logs" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c peat -n "__fish_peat_using_subcommand doctor" -l dir -d 'Persistence directory of the node [default: the platform data dir + /peat]' -r -F
complete -c peat -n "__fish_peat_using_subcommand doctor" -s o -l output -d 'Output format [default: table on a terminal, json when piped]' -r -f -a "table\t'Aligned columns for people'
json\t'One JSON value (an array for lists)'
ndjson\t'One JSON value per line'"
complete -c peat -n "__fish_peat_using_subcommand doctor" -s v -l verbose -d 'More logging on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides'
complete -c peat -n "__fish_peat_using_subcommand doctor" -s q -l quiet -d 'No messages on stderr, only errors (data on stdout is unchanged)'
complete -c peat -n "__fish_peat_using_subcommand doctor" -l wide -d 'Tables show every cell whole, however wide (default: cut to fit the terminal)'
complete -c peat -n "__fish_peat_using_subcommand doctor" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c peat -n "__fish_peat_using_subcommand repair" -l dir -d 'Persistence directory of the node [default: the platform data dir + /peat]' -r -F
complete -c peat -n "__fish_peat_using_subcommand repair" -s o -l output -d 'Output format [default: table on a terminal, json when piped]' -r -f -a "table\t'Aligned columns for people'
json\t'One JSON value (an array for lists)'
ndjson\t'One JSON value per line'"
complete -c peat -n "__fish_peat_using_subcommand repair" -s v -l verbose -d 'More logging on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides'
complete -c peat -n "__fish_peat_using_subcommand repair" -s q -l quiet -d 'No messages on stderr, only errors (data on stdout is unchanged)'
complete -c peat -n "__fish_peat_using_subcommand repair" -l wide -d 'Tables show every cell whole, however wide (default: cut to fit the terminal)'
complete -c peat -n "__fish_peat_using_subcommand repair" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c peat -n "__fish_peat_using_subcommand sync; and not __fish_seen_subcommand_from start stop status wait unit help" -l dir -d 'Persistence directory of the node [default: the platform data dir + /peat]' -r -F
complete -c peat -n "__fish_peat_using_subcommand sync; and not __fish_seen_subcommand_from start stop status wait unit help" -s o -l output -d 'Output format [default: table on a terminal, json when piped]' -r -f -a "table\t'Aligned columns for people'
json\t'One JSON value (an array for lists)'
ndjson\t'One JSON value per line'"
complete -c peat -n "__fish_peat_using_subcommand sync; and not __fish_seen_subcommand_from start stop status wait unit help" -s v -l verbose -d 'More logging on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides'
complete -c peat -n "__fish_peat_using_subcommand sync; and not __fish_seen_subcommand_from start stop status wait unit help" -s q -l quiet -d 'No messages on stderr, only errors (data on stdout is unchanged)'
complete -c peat -n "__fish_peat_using_subcommand sync; and not __fish_seen_subcommand_from start stop status wait unit help" -l wide -d 'Tables show every cell whole, however wide (default: cut to fit the terminal)'
complete -c peat -n "__fish_peat_using_subcommand sync; and not __fish_seen_subcommand_from start stop status wait unit help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c peat -n "__fish_peat_using_subcommand sync; and not __fish_seen_subcommand_from start stop status wait unit help" -f -a "start" -d 'Start the node: serve the directory and sync with peers'
complete -c peat -n "__fish_peat_using_subcommand sync; and not __fish_seen_subcommand_from start stop status wait unit help" -f -a "stop" -d 'Stop the running node gracefully'
complete -c peat -n "__fish_peat_using_subcommand sync; and not __fish_seen_subcommand_from start stop status wait unit help" -f -a "status" -d 'Show whether the node runs, and how it is doing'
complete -c peat -n "__fish_peat_using_subcommand sync; and not __fish_seen_subcommand_from start stop status wait unit help" -f -a "wait" -d 'Wait until this node and its connected peers hold each other\'s changes'
complete -c peat -n "__fish_peat_using_subcommand sync; and not __fish_seen_subcommand_from start stop status wait unit help" -f -a "unit" -d 'Print a systemd unit that runs this directory\'s node'
complete -c peat -n "__fish_peat_using_subcommand sync; and not __fish_seen_subcommand_from start stop status wait unit help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c peat -n "__fish_peat_using_subcommand sync; and __fish_seen_subcommand_from start" -l listen -d 'UDP address of the sync endpoint, e.g. 0.0.0.0:7890 (saved in config.toml)' -r
complete -c peat -n "__fish_peat_using_subcommand sync; and __fish_seen_subcommand_from start" -l advertise -d 'HOST:PORT that peers can dial to reach this node, put first in join tickets: for NAT, port forwards and containers (repeatable; replaces the saved list in config.toml)' -r
complete -c peat -n "__fish_peat_using_subcommand sync; and __fish_seen_subcommand_from start" -l relay -d 'URL of an Iroh relay server you run (e.g. http://10.0.0.5:3340), for peers with no direct path to each other (repeatable; replaces the saved list in config.toml)' -r
complete -c peat -n "__fish_peat_using_subcommand sync; and __fish_seen_subcommand_from start" -l dir -d 'Persistence directory of the node [default: the platform data dir + /peat]' -r -F
complete -c peat -n "__fish_peat_using_subcommand sync; and __fish_seen_subcommand_from start" -s o -l output -d 'Output format [default: table on a terminal, json when piped]' -r -f -a "table\t'Aligned columns for people'
json\t'One JSON value (an array for lists)'
ndjson\t'One JSON value per line'"
complete -c peat -n "__fish_peat_using_subcommand sync; and __fish_seen_subcommand_from start" -l foreground -d 'Stay attached: log to stderr, stop on SIGTERM/Ctrl-C'
complete -c peat -n "__fish_peat_using_subcommand sync; and __fish_seen_subcommand_from start" -l log-file -d 'Log to node.log in the directory, rotated by size (how `sync start` runs the node)'
complete -c peat -n "__fish_peat_using_subcommand sync; and __fish_seen_subcommand_from start" -l mdns -d 'Find and dial peers on the local network with mDNS (saved in config.toml)'
complete -c peat -n "__fish_peat_using_subcommand sync; and __fish_seen_subcommand_from start" -l relays -d 'Use the public Iroh relays to reach peers behind NAT (saved in config.toml)'
complete -c peat -n "__fish_peat_using_subcommand sync; and __fish_seen_subcommand_from start" -s v -l verbose -d 'More logging on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides'
complete -c peat -n "__fish_peat_using_subcommand sync; and __fish_seen_subcommand_from start" -s q -l quiet -d 'No messages on stderr, only errors (data on stdout is unchanged)'
complete -c peat -n "__fish_peat_using_subcommand sync; and __fish_seen_subcommand_from start" -l wide -d 'Tables show every cell whole, however wide (default: cut to fit the terminal)'
complete -c peat -n "__fish_peat_using_subcommand sync; and __fish_seen_subcommand_from start" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c peat -n "__fish_peat_using_subcommand sync; and __fish_seen_subcommand_from stop" -l timeout -d 'How long to wait for the node to exit (e.g. 10s, 500ms)' -r
complete -c peat -n "__fish_peat_using_subcommand sync; and __fish_seen_subcommand_from stop" -l dir -d 'Persistence directory of the node [default: the platform data dir + /peat]' -r -F
complete -c peat -n "__fish_peat_using_subcommand sync; and __fish_seen_subcommand_from stop" -s o -l output -d 'Output format [default: table on a terminal, json when piped]' -r -f -a "table\t'Aligned columns for people'
json\t'One JSON value (an array for lists)'
ndjson\t'One JSON value per line'"
complete -c peat -n "__fish_peat_using_subcommand sync; and __fish_seen_subcommand_from stop" -s v -l verbose -d 'More logging on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides'
complete -c peat -n "__fish_peat_using_subcommand sync; and __fish_seen_subcommand_from stop" -s q -l quiet -d 'No messages on stderr, only errors (data on stdout is unchanged)'
complete -c peat -n "__fish_peat_using_subcommand sync; and __fish_seen_subcommand_from stop" -l wide -d 'Tables show every cell whole, however wide (default: cut to fit the terminal)'
complete -c peat -n "__fish_peat_using_subcommand sync; and __fish_seen_subcommand_from stop" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c peat -n "__fish_peat_using_subcommand sync; and __fish_seen_subcommand_from status" -l dir -d 'Persistence directory of the node [default: the platform data dir + /peat]' -r -F
complete -c peat -n "__fish_peat_using_subcommand sync; and __fish_seen_subcommand_from status" -s o -l output -d 'Output format [default: table on a terminal, json when piped]' -r -f -a "table\t'Aligned columns for people'
json\t'One JSON value (an array for lists)'
ndjson\t'One JSON value per line'"
complete -c peat -n "__fish_peat_using_subcommand sync; and __fish_seen_subcommand_from status" -l show-ticket -d 'Also print a join ticket of the running node (a secret: it holds the formation key)'
complete -c peat -n "__fish_peat_using_subcommand sync; and __fish_seen_subcommand_from status" -s v -l verbose -d 'More logging on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides'
complete -c peat -n "__fish_peat_using_subcommand sync; and __fish_seen_subcommand_from status" -s q -l quiet -d 'No messages on stderr, only errors (data on stdout is unchanged)'
complete -c peat -n "__fish_peat_using_subcommand sync; and __fish_seen_subcommand_from status" -l wide -d 'Tables show every cell whole, however wide (default: cut to fit the terminal)'
complete -c peat -n "__fish_peat_using_subcommand sync; and __fish_seen_subcommand_from status" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c peat -n "__fish_peat_using_subcommand sync; and __fish_seen_subcommand_from wait" -l timeout -d 'Give up after this long' -r
complete -c peat -n "__fish_peat_using_subcommand sync; and __fish_seen_subcommand_from wait" -l dir -d 'Persistence directory of the node [default: the platform data dir + /peat]' -r -F
complete -c peat -n "__fish_peat_using_subcommand sync; and __fish_seen_subcommand_from wait" -s o -l output -d 'Output format [default: table on a terminal, json when piped]' -r -f -a "table\t'Aligned columns for people'
json\t'One JSON value (an array for lists)'
ndjson\t'One JSON value per line'"
complete -c peat -n "__fish_peat_using_subcommand sync; and __fish_seen_subcommand_from wait" -l push -d 'Only wait until connected peers hold this node\'s changes'
complete -c peat -n "__fish_peat_using_subcommand sync; and __fish_seen_subcommand_from wait" -l pull -d 'Only wait until this node holds what connected peers had when the wait began'
complete -c peat -n "__fish_peat_using_subcommand sync; and __fish_seen_subcommand_from wait" -s v -l verbose -d 'More logging on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides'
complete -c peat -n "__fish_peat_using_subcommand sync; and __fish_seen_subcommand_from wait" -s q -l quiet -d 'No messages on stderr, only errors (data on stdout is unchanged)'
complete -c peat -n "__fish_peat_using_subcommand sync; and __fish_seen_subcommand_from wait" -l wide -d 'Tables show every cell whole, however wide (default: cut to fit the terminal)'
complete -c peat -n "__fish_peat_using_subcommand sync; and __fish_seen_subcommand_from wait" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c peat -n "__fish_peat_using_subcommand sync; and __fish_seen_subcommand_from unit" -l dir -d 'Persistence directory of the node [default: the platform data dir + /peat]' -r -F
complete -c peat -n "__fish_peat_using_subcommand sync; and __fish_seen_subcommand_from unit" -s o -l output -d 'Output format [default: table on a terminal, json when piped]' -r -f -a "table\t'Aligned columns for people'
json\t'One JSON value (an array for lists)'
ndjson\t'One JSON value per line'"
complete -c peat -n "__fish_peat_using_subcommand sync; and __fish_seen_subcommand_from unit" -s v -l verbose -d 'More logging on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides'
complete -c peat -n "__fish_peat_using_subcommand sync; and __fish_seen_subcommand_from unit" -s q -l quiet -d 'No messages on stderr, only errors (data on stdout is unchanged)'
complete -c peat -n "__fish_peat_using_subcommand sync; and __fish_seen_subcommand_from unit" -l wide -d 'Tables show every cell whole, however wide (default: cut to fit the terminal)'
complete -c peat -n "__fish_peat_using_subcommand sync; and __fish_seen_subcommand_from unit" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c peat -n "__fish_peat_using_subcommand sync; and __fish_seen_subcommand_from help" -f -a "start" -d 'Start the node: serve the directory and sync with peers'
complete -c peat -n "__fish_peat_using_subcommand sync; and __fish_seen_subcommand_from help" -f -a "stop" -d 'Stop the running node gracefully'
complete -c peat -n "__fish_peat_using_subcommand sync; and __fish_seen_subcommand_from help" -f -a "status" -d 'Show whether the node runs, and how it is doing'
complete -c peat -n "__fish_peat_using_subcommand sync; and __fish_seen_subcommand_from help" -f -a "wait" -d 'Wait until this node and its connected peers hold each other\'s changes'
complete -c peat -n "__fish_peat_using_subcommand sync; and __fish_seen_subcommand_from help" -f -a "unit" -d 'Print a systemd unit that runs this directory\'s node'
complete -c peat -n "__fish_peat_using_subcommand sync; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c peat -n "__fish_peat_using_subcommand completions" -l dir -d 'Persistence directory of the node [default: the platform data dir + /peat]' -r -F
complete -c peat -n "__fish_peat_using_subcommand completions" -s o -l output -d 'Output format [default: table on a terminal, json when piped]' -r -f -a "table\t'Aligned columns for people'
json\t'One JSON value (an array for lists)'
ndjson\t'One JSON value per line'"
complete -c peat -n "__fish_peat_using_subcommand completions" -s v -l verbose -d 'More logging on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides'
complete -c peat -n "__fish_peat_using_subcommand completions" -s q -l quiet -d 'No messages on stderr, only errors (data on stdout is unchanged)'
complete -c peat -n "__fish_peat_using_subcommand completions" -l wide -d 'Tables show every cell whole, however wide (default: cut to fit the terminal)'
complete -c peat -n "__fish_peat_using_subcommand completions" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c peat -n "__fish_peat_using_subcommand generate" -l out -d 'Directory that receives completions/ and man/' -r -F
complete -c peat -n "__fish_peat_using_subcommand generate" -l dir -d 'Persistence directory of the node [default: the platform data dir + /peat]' -r -F
complete -c peat -n "__fish_peat_using_subcommand generate" -s o -l output -d 'Output format [default: table on a terminal, json when piped]' -r -f -a "table\t'Aligned columns for people'
json\t'One JSON value (an array for lists)'
ndjson\t'One JSON value per line'"
complete -c peat -n "__fish_peat_using_subcommand generate" -s v -l verbose -d 'More logging on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides'
complete -c peat -n "__fish_peat_using_subcommand generate" -s q -l quiet -d 'No messages on stderr, only errors (data on stdout is unchanged)'
complete -c peat -n "__fish_peat_using_subcommand generate" -l wide -d 'Tables show every cell whole, however wide (default: cut to fit the terminal)'
complete -c peat -n "__fish_peat_using_subcommand generate" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c peat -n "__fish_peat_using_subcommand help; and not __fish_seen_subcommand_from init upsert query get remove status watch peers export import backup restore logs doctor repair sync completions generate help" -f -a "init" -d 'Create a node: keys, config and an empty store'
complete -c peat -n "__fish_peat_using_subcommand help; and not __fish_seen_subcommand_from init upsert query get remove status watch peers export import backup restore logs doctor repair sync completions generate help" -f -a "upsert" -d 'Create or change documents'
complete -c peat -n "__fish_peat_using_subcommand help; and not __fish_seen_subcommand_from init upsert query get remove status watch peers export import backup restore logs doctor repair sync completions generate help" -f -a "query" -d 'Find documents'
complete -c peat -n "__fish_peat_using_subcommand help; and not __fish_seen_subcommand_from init upsert query get remove status watch peers export import backup restore logs doctor repair sync completions generate help" -f -a "get" -d 'Print documents by id'
complete -c peat -n "__fish_peat_using_subcommand help; and not __fish_seen_subcommand_from init upsert query get remove status watch peers export import backup restore logs doctor repair sync completions generate help" -f -a "remove" -d 'Remove documents'
complete -c peat -n "__fish_peat_using_subcommand help; and not __fish_seen_subcommand_from init upsert query get remove status watch peers export import backup restore logs doctor repair sync completions generate help" -f -a "status" -d 'Show the node\'s identity and what it holds'
complete -c peat -n "__fish_peat_using_subcommand help; and not __fish_seen_subcommand_from init upsert query get remove status watch peers export import backup restore logs doctor repair sync completions generate help" -f -a "watch" -d 'Stream changes to documents as they happen'
complete -c peat -n "__fish_peat_using_subcommand help; and not __fish_seen_subcommand_from init upsert query get remove status watch peers export import backup restore logs doctor repair sync completions generate help" -f -a "peers" -d 'List, add or remove peers'
complete -c peat -n "__fish_peat_using_subcommand help; and not __fish_seen_subcommand_from init upsert query get remove status watch peers export import backup restore logs doctor repair sync completions generate help" -f -a "export" -d 'Write documents out as NDJSON or Automerge (a consistent snapshot)'
complete -c peat -n "__fish_peat_using_subcommand help; and not __fish_seen_subcommand_from init upsert query get remove status watch peers export import backup restore logs doctor repair sync completions generate help" -f -a "import" -d 'Merge an export file (either format) into the node'
complete -c peat -n "__fish_peat_using_subcommand help; and not __fish_seen_subcommand_from init upsert query get remove status watch peers export import backup restore logs doctor repair sync completions generate help" -f -a "backup" -d 'Back up the node: its store and config (and keys if asked) into a new directory'
complete -c peat -n "__fish_peat_using_subcommand help; and not __fish_seen_subcommand_from init upsert query get remove status watch peers export import backup restore logs doctor repair sync completions generate help" -f -a "restore" -d 'Restore a node from a backup directory'
complete -c peat -n "__fish_peat_using_subcommand help; and not __fish_seen_subcommand_from init upsert query get remove status watch peers export import backup restore logs doctor repair sync completions generate help" -f -a "logs" -d 'Show the node\'s log (node.log)'
complete -c peat -n "__fish_peat_using_subcommand help; and not __fish_seen_subcommand_from init upsert query get remove status watch peers export import backup restore logs doctor repair sync completions generate help" -f -a "doctor" -d 'Check the store: every table reads, every document loads and matches its projection'
complete -c peat -n "__fish_peat_using_subcommand help; and not __fish_seen_subcommand_from init upsert query get remove status watch peers export import backup restore logs doctor repair sync completions generate help" -f -a "repair" -d 'Salvage a damaged store: copy every readable document into a new one'
complete -c peat -n "__fish_peat_using_subcommand help; and not __fish_seen_subcommand_from init upsert query get remove status watch peers export import backup restore logs doctor repair sync completions generate help" -f -a "sync" -d 'Run the node: start, stop, status, wait for peers'
complete -c peat -n "__fish_peat_using_subcommand help; and not __fish_seen_subcommand_from init upsert query get remove status watch peers export import backup restore logs doctor repair sync completions generate help" -f -a "completions" -d 'Print a shell completion script'
complete -c peat -n "__fish_peat_using_subcommand help; and not __fish_seen_subcommand_from init upsert query get remove status watch peers export import backup restore logs doctor repair sync completions generate help" -f -a "generate" -d 'Write completions and man pages into a directory (for packagers)'
complete -c peat -n "__fish_peat_using_subcommand help; and not __fish_seen_subcommand_from init upsert query get remove status watch peers export import backup restore logs doctor repair sync completions generate help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c peat -n "__fish_peat_using_subcommand help; and __fish_seen_subcommand_from peers" -f -a "list" -d 'List known peers and their connection state (the default)'
complete -c peat -n "__fish_peat_using_subcommand help; and __fish_seen_subcommand_from peers" -f -a "add" -d 'Remember a peer and connect to it if the node runs'
complete -c peat -n "__fish_peat_using_subcommand help; and __fish_seen_subcommand_from peers" -f -a "remove" -d 'Forget a peer and drop its connection'
complete -c peat -n "__fish_peat_using_subcommand help; and __fish_seen_subcommand_from sync" -f -a "start" -d 'Start the node: serve the directory and sync with peers'
complete -c peat -n "__fish_peat_using_subcommand help; and __fish_seen_subcommand_from sync" -f -a "stop" -d 'Stop the running node gracefully'
complete -c peat -n "__fish_peat_using_subcommand help; and __fish_seen_subcommand_from sync" -f -a "status" -d 'Show whether the node runs, and how it is doing'
complete -c peat -n "__fish_peat_using_subcommand help; and __fish_seen_subcommand_from sync" -f -a "wait" -d 'Wait until this node and its connected peers hold each other\'s changes'
complete -c peat -n "__fish_peat_using_subcommand help; and __fish_seen_subcommand_from sync" -f -a "unit" -d 'Print a systemd unit that runs this directory\'s node'
