
use builtin;
use str;

set edit:completion:arg-completer[peat] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'peat'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'peat'= {
            cand --dir 'Persistence directory of the node [default: the platform data dir + /peat]'
            cand -o 'Output format [default: table on a terminal, json when piped]'
            cand --output 'Output format [default: table on a terminal, json when piped]'
            cand -v 'More logging on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides'
            cand --verbose 'More logging on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides'
            cand -q 'No messages on stderr, only errors (data on stdout is unchanged)'
            cand --quiet 'No messages on stderr, only errors (data on stdout is unchanged)'
            cand --wide 'Tables show every cell whole, however wide (default: cut to fit the terminal)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand init 'Create a node: keys, config and an empty store'
            cand upsert 'Create or change documents'
            cand query 'Find documents'
            cand get 'Print documents by id'
            cand remove 'Remove documents'
            cand status 'Show the node''s identity and what it holds'
            cand watch 'Stream changes to documents as they happen'
            cand peers 'List, add or remove peers'
            cand export 'Write documents out as NDJSON or Automerge (a consistent snapshot)'
            cand import 'Merge an export file (either format) into the node'
            cand backup 'Back up the node: its store and config (and keys if asked) into a new directory'
            cand restore 'Restore a node from a backup directory'
            cand logs 'Show the node''s log (node.log)'
            cand doctor 'Check the store: every table reads, every document loads and matches its projection'
            cand repair 'Salvage a damaged store: copy every readable document into a new one'
            cand sync 'Run the node: start, stop, status, wait for peers'
            cand completions 'Print a shell completion script'
            cand generate 'Write completions and man pages into a directory (for packagers)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'peat;init'= {
            cand --app-id 'Application id: nodes sync only within one app id'
            cand --join 'Join the formation of the node that printed this ticket'
            cand --listen 'UDP address for the sync endpoint [default: 0.0.0.0:7890]'
            cand --dir 'Persistence directory of the node [default: the platform data dir + /peat]'
            cand -o 'Output format [default: table on a terminal, json when piped]'
            cand --output 'Output format [default: table on a terminal, json when piped]'
            cand --force 'Replace the keys and config of an initialised directory (documents are kept); refused while its node runs, and asks first on a terminal'
            cand -y 'Do not ask before --force replaces a node'
            cand --yes 'Do not ask before --force replaces a node'
            cand -v 'More logging on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides'
            cand --verbose 'More logging on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides'
            cand -q 'No messages on stderr, only errors (data on stdout is unchanged)'
            cand --quiet 'No messages on stderr, only errors (data on stdout is unchanged)'
            cand --wide 'Tables show every cell whole, however wide (default: cut to fit the terminal)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'peat;upsert'= {
            cand -s 'Set one path, e.g. pos.lat=59.3 or tags[0]=red (repeatable)'
            cand --set 'Set one path, e.g. pos.lat=59.3 or tags[0]=red (repeatable)'
            cand --json 'The document as a JSON object'
            cand -f 'Read documents from a file (''-'' for stdin)'
            cand --file 'Read documents from a file (''-'' for stdin)'
            cand --wait-for-sync 'Then wait until connected peers hold the change (default 30s; needs a running node)'
            cand --dir 'Persistence directory of the node [default: the platform data dir + /peat]'
            cand -o 'Output format [default: table on a terminal, json when piped]'
            cand --output 'Output format [default: table on a terminal, json when piped]'
            cand --replace 'Make each document equal to the input (drop fields it does not name)'
            cand -v 'More logging on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides'
            cand --verbose 'More logging on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides'
            cand -q 'No messages on stderr, only errors (data on stdout is unchanged)'
            cand --quiet 'No messages on stderr, only errors (data on stdout is unchanged)'
            cand --wide 'Tables show every cell whole, however wide (default: cut to fit the terminal)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'peat;query'= {
            cand -w 'Filter expression (repeatable; all must hold)'
            cand --where 'Filter expression (repeatable; all must hold)'
            cand -n 'Return at most N documents (0: all; on a terminal the default is the first 100)'
            cand --limit 'Return at most N documents (0: all; on a terminal the default is the first 100)'
            cand --order-by 'Sort by this path (missing values last)'
            cand --fields 'Print only these paths, as columns in this order (comma-separated; id is always kept)'
            cand --dir 'Persistence directory of the node [default: the platform data dir + /peat]'
            cand -o 'Output format [default: table on a terminal, json when piped]'
            cand --output 'Output format [default: table on a terminal, json when piped]'
            cand --desc 'Sort descending'
            cand --count 'Print only the number of matches'
            cand --include-deleted 'Include removed documents (marked "_deleted": true)'
            cand --deleted-only 'Only removed documents'
            cand -v 'More logging on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides'
            cand --verbose 'More logging on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides'
            cand -q 'No messages on stderr, only errors (data on stdout is unchanged)'
            cand --quiet 'No messages on stderr, only errors (data on stdout is unchanged)'
            cand --wide 'Tables show every cell whole, however wide (default: cut to fit the terminal)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'peat;get'= {
            cand --dir 'Persistence directory of the node [default: the platform data dir + /peat]'
            cand -o 'Output format [default: table on a terminal, json when piped]'
            cand --output 'Output format [default: table on a terminal, json when piped]'
            cand -v 'More logging on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides'
            cand --verbose 'More logging on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides'
            cand -q 'No messages on stderr, only errors (data on stdout is unchanged)'
            cand --quiet 'No messages on stderr, only errors (data on stdout is unchanged)'
            cand --wide 'Tables show every cell whole, however wide (default: cut to fit the terminal)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'peat;remove'= {
            cand --wait-for-sync 'Then wait until connected peers hold the removal (default 30s; needs a running node)'
            cand --dir 'Persistence directory of the node [default: the platform data dir + /peat]'
            cand -o 'Output format [default: table on a terminal, json when piped]'
            cand --output 'Output format [default: table on a terminal, json when piped]'
            cand -v 'More logging on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides'
            cand --verbose 'More logging on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides'
            cand -q 'No messages on stderr, only errors (data on stdout is unchanged)'
            cand --quiet 'No messages on stderr, only errors (data on stdout is unchanged)'
            cand --wide 'Tables show every cell whole, however wide (default: cut to fit the terminal)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'peat;status'= {
            cand --dir 'Persistence directory of the node [default: the platform data dir + /peat]'
            cand -o 'Output format [default: table on a terminal, json when piped]'
            cand --output 'Output format [default: table on a terminal, json when piped]'
            cand -v 'More logging on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides'
            cand --verbose 'More logging on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides'
            cand -q 'No messages on stderr, only errors (data on stdout is unchanged)'
            cand --quiet 'No messages on stderr, only errors (data on stdout is unchanged)'
            cand --wide 'Tables show every cell whole, however wide (default: cut to fit the terminal)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'peat;watch'= {
            cand -w 'Only documents matching this expression (repeatable; all must hold)'
            cand --where 'Only documents matching this expression (repeatable; all must hold)'
            cand -c 'Exit after this many events'
            cand --count 'Exit after this many events'
            cand --timeout 'Stop after this long (e.g. 30s): exit 0, or 1 if --count events had not come'
            cand --dir 'Persistence directory of the node [default: the platform data dir + /peat]'
            cand -o 'Output format [default: table on a terminal, json when piped]'
            cand --output 'Output format [default: table on a terminal, json when piped]'
            cand --no-initial 'Skip the current matches; only report changes'
            cand --no-reconnect 'Exit 1 when the node stops, instead of waiting for it and resuming'
            cand -v 'More logging on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides'
            cand --verbose 'More logging on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides'
            cand -q 'No messages on stderr, only errors (data on stdout is unchanged)'
            cand --quiet 'No messages on stderr, only errors (data on stdout is unchanged)'
            cand --wide 'Tables show every cell whole, however wide (default: cut to fit the terminal)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'peat;peers'= {
            cand --dir 'Persistence directory of the node [default: the platform data dir + /peat]'
            cand -o 'Output format [default: table on a terminal, json when piped]'
            cand --output 'Output format [default: table on a terminal, json when piped]'
            cand -v 'More logging on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides'
            cand --verbose 'More logging on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides'
            cand -q 'No messages on stderr, only errors (data on stdout is unchanged)'
            cand --quiet 'No messages on stderr, only errors (data on stdout is unchanged)'
            cand --wide 'Tables show every cell whole, however wide (default: cut to fit the terminal)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand list 'List known peers and their connection state (the default)'
            cand add 'Remember a peer and connect to it if the node runs'
            cand remove 'Forget a peer and drop its connection'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'peat;peers;list'= {
            cand --dir 'Persistence directory of the node [default: the platform data dir + /peat]'
            cand -o 'Output format [default: table on a terminal, json when piped]'
            cand --output 'Output format [default: table on a terminal, json when piped]'
            cand -v 'More logging on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides'
            cand --verbose 'More logging on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides'
            cand -q 'No messages on stderr, only errors (data on stdout is unchanged)'
            cand --quiet 'No messages on stderr, only errors (data on stdout is unchanged)'
            cand --wide 'Tables show every cell whole, however wide (default: cut to fit the terminal)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'peat;peers;add'= {
            cand --dir 'Persistence directory of the node [default: the platform data dir + /peat]'
            cand -o 'Output format [default: table on a terminal, json when piped]'
            cand --output 'Output format [default: table on a terminal, json when piped]'
            cand -v 'More logging on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides'
            cand --verbose 'More logging on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides'
            cand -q 'No messages on stderr, only errors (data on stdout is unchanged)'
            cand --quiet 'No messages on stderr, only errors (data on stdout is unchanged)'
            cand --wide 'Tables show every cell whole, however wide (default: cut to fit the terminal)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'peat;peers;remove'= {
            cand --dir 'Persistence directory of the node [default: the platform data dir + /peat]'
            cand -o 'Output format [default: table on a terminal, json when piped]'
            cand --output 'Output format [default: table on a terminal, json when piped]'
            cand -v 'More logging on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides'
            cand --verbose 'More logging on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides'
            cand -q 'No messages on stderr, only errors (data on stdout is unchanged)'
            cand --quiet 'No messages on stderr, only errors (data on stdout is unchanged)'
            cand --wide 'Tables show every cell whole, however wide (default: cut to fit the terminal)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'peat;peers;help'= {
            cand list 'List known peers and their connection state (the default)'
            cand add 'Remember a peer and connect to it if the node runs'
            cand remove 'Forget a peer and drop its connection'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'peat;peers;help;list'= {
        }
        &'peat;peers;help;add'= {
        }
        &'peat;peers;help;remove'= {
        }
        &'peat;peers;help;help'= {
        }
        &'peat;export'= {
            cand --format 'What each record carries: the document''s JSON, or its Automerge document with history'
            cand --out 'Write to FILE instead of stdout (-o is the global output format)'
            cand --dir 'Persistence directory of the node [default: the platform data dir + /peat]'
            cand -o 'Output format [default: table on a terminal, json when piped]'
            cand --output 'Output format [default: table on a terminal, json when piped]'
            cand --include-deleted 'Include removed documents (ndjson; the automerge format always carries tombstones)'
            cand -v 'More logging on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides'
            cand --verbose 'More logging on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides'
            cand -q 'No messages on stderr, only errors (data on stdout is unchanged)'
            cand --quiet 'No messages on stderr, only errors (data on stdout is unchanged)'
            cand --wide 'Tables show every cell whole, however wide (default: cut to fit the terminal)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'peat;import'= {
            cand --dir 'Persistence directory of the node [default: the platform data dir + /peat]'
            cand -o 'Output format [default: table on a terminal, json when piped]'
            cand --output 'Output format [default: table on a terminal, json when piped]'
            cand -v 'More logging on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides'
            cand --verbose 'More logging on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides'
            cand -q 'No messages on stderr, only errors (data on stdout is unchanged)'
            cand --quiet 'No messages on stderr, only errors (data on stdout is unchanged)'
            cand --wide 'Tables show every cell whole, however wide (default: cut to fit the terminal)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'peat;backup'= {
            cand --dir 'Persistence directory of the node [default: the platform data dir + /peat]'
            cand -o 'Output format [default: table on a terminal, json when piped]'
            cand --output 'Output format [default: table on a terminal, json when piped]'
            cand --include-keys 'Also copy identity.key and formation.key (secrets: keep the backup private)'
            cand -v 'More logging on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides'
            cand --verbose 'More logging on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides'
            cand -q 'No messages on stderr, only errors (data on stdout is unchanged)'
            cand --quiet 'No messages on stderr, only errors (data on stdout is unchanged)'
            cand --wide 'Tables show every cell whole, however wide (default: cut to fit the terminal)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'peat;restore'= {
            cand --dir 'Persistence directory of the node [default: the platform data dir + /peat]'
            cand -o 'Output format [default: table on a terminal, json when piped]'
            cand --output 'Output format [default: table on a terminal, json when piped]'
            cand --force 'Replace the directory''s existing store'
            cand -v 'More logging on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides'
            cand --verbose 'More logging on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides'
            cand -q 'No messages on stderr, only errors (data on stdout is unchanged)'
            cand --quiet 'No messages on stderr, only errors (data on stdout is unchanged)'
            cand --wide 'Tables show every cell whole, however wide (default: cut to fit the terminal)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'peat;logs'= {
            cand -n 'How many of the last lines to print first'
            cand --lines 'How many of the last lines to print first'
            cand --dir 'Persistence directory of the node [default: the platform data dir + /peat]'
            cand -o 'Output format [default: table on a terminal, json when piped]'
            cand --output 'Output format [default: table on a terminal, json when piped]'
            cand -f 'Follow: print new lines as they are written, until Ctrl-C'
            cand --follow 'Follow: print new lines as they are written, until Ctrl-C'
            cand -v 'More logging on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides'
            cand --verbose 'More logging on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides'
            cand -q 'No messages on stderr, only errors (data on stdout is unchanged)'
            cand --quiet 'No messages on stderr, only errors (data on stdout is unchanged)'
            cand --wide 'Tables show every cell whole, however wide (default: cut to fit the terminal)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'peat;doctor'= {
            cand --dir 'Persistence directory of the node [default: the platform data dir + /peat]'
            cand -o 'Output format [default: table on a terminal, json when piped]'
            cand --output 'Output format [default: table on a terminal, json when piped]'
            cand -v 'More logging on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides'
            cand --verbose 'More logging on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides'
            cand -q 'No messages on stderr, only errors (data on stdout is unchanged)'
            cand --quiet 'No messages on stderr, only errors (data on stdout is unchanged)'
            cand --wide 'Tables show every cell whole, however wide (default: cut to fit the terminal)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'peat;repair'= {
            cand --dir 'Persistence directory of the node [default: the platform data dir + /peat]'
            cand -o 'Output format [default: table on a terminal, json when piped]'
            cand --output 'Output format [default: table on a terminal, json when piped]'
            cand -v 'More logging on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides'
            cand --verbose 'More logging on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides'
            cand -q 'No messages on stderr, only errors (data on stdout is unchanged)'
            cand --quiet 'No messages on stderr, only errors (data on stdout is unchanged)'
            cand --wide 'Tables show every cell whole, however wide (default: cut to fit the terminal)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'peat;sync'= {
            cand --dir 'Persistence directory of the node [default: the platform data dir + /peat]'
            cand -o 'Output format [default: table on a terminal, json when piped]'
            cand --output 'Output format [default: table on a terminal, json when piped]'
            cand -v 'More logging on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides'
            cand --verbose 'More logging on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides'
            cand -q 'No messages on stderr, only errors (data on stdout is unchanged)'
            cand --quiet 'No messages on stderr, only errors (data on stdout is unchanged)'
            cand --wide 'Tables show every cell whole, however wide (default: cut to fit the terminal)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand start 'Start the node: serve the directory and sync with peers'
            cand stop 'Stop the running node gracefully'
            cand status 'Show whether the node runs, and how it is doing'
            cand wait 'Wait until this node and its connected peers hold each other''s changes'
            cand unit 'Print a systemd unit that runs this directory''s node'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'peat;sync;start'= {
            cand --listen 'UDP address of the sync endpoint, e.g. 0.0.0.0:7890 (saved in config.toml)'
            cand --advertise 'HOST:PORT that peers can dial to reach this node, put first in join tickets: for NAT, port forwards and containers (repeatable; replaces the saved list in config.toml)'
            cand --relay 'URL of an Iroh relay server you run (e.g. http://10.0.0.5:3340), for peers with no direct path to each other (repeatable; replaces the saved list in config.toml)'
            cand --dir 'Persistence directory of the node [default: the platform data dir + /peat]'
            cand -o 'Output format [default: table on a terminal, json when piped]'
            cand --output 'Output format [default: table on a terminal, json when piped]'
            cand --foreground 'Stay attached: log to stderr, stop on SIGTERM/Ctrl-C'
            cand --log-file 'Log to node.log in the directory, rotated by size (how `sync start` runs the node)'
            cand --mdns 'Find and dial peers on the local network with mDNS (saved in config.toml)'
            cand --relays 'Use the public Iroh relays to reach peers behind NAT (saved in config.toml)'
            cand -v 'More logging on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides'
            cand --verbose 'More logging on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides'
            cand -q 'No messages on stderr, only errors (data on stdout is unchanged)'
            cand --quiet 'No messages on stderr, only errors (data on stdout is unchanged)'
            cand --wide 'Tables show every cell whole, however wide (default: cut to fit the terminal)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'peat;sync;stop'= {
            cand --timeout 'How long to wait for the node to exit (e.g. 10s, 500ms)'
            cand --dir 'Persistence directory of the node [default: the platform data dir + /peat]'
            cand -o 'Output format [default: table on a terminal, json when piped]'
            cand --output 'Output format [default: table on a terminal, json when piped]'
            cand -v 'More logging on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides'
            cand --verbose 'More logging on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides'
            cand -q 'No messages on stderr, only errors (data on stdout is unchanged)'
            cand --quiet 'No messages on stderr, only errors (data on stdout is unchanged)'
            cand --wide 'Tables show every cell whole, however wide (default: cut to fit the terminal)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'peat;sync;status'= {
            cand --dir 'Persistence directory of the node [default: the platform data dir + /peat]'
            cand -o 'Output format [default: table on a terminal, json when piped]'
            cand --output 'Output format [default: table on a terminal, json when piped]'
            cand --show-ticket 'Also print a join ticket of the running node (a secret: it holds the formation key)'
            cand -v 'More logging on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides'
            cand --verbose 'More logging on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides'
            cand -q 'No messages on stderr, only errors (data on stdout is unchanged)'
            cand --quiet 'No messages on stderr, only errors (data on stdout is unchanged)'
            cand --wide 'Tables show every cell whole, however wide (default: cut to fit the terminal)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'peat;sync;wait'= {
            cand --timeout 'Give up after this long'
            cand --dir 'Persistence directory of the node [default: the platform data dir + /peat]'
            cand -o 'Output format [default: table on a terminal, json when piped]'
            cand --output 'Output format [default: table on a terminal, json when piped]'
            cand --push 'Only wait until connected peers hold this node''s changes'
            cand --pull 'Only wait until this node holds what connected peers had when the wait began'
            cand -v 'More logging on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides'
            cand --verbose 'More logging on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides'
            cand -q 'No messages on stderr, only errors (data on stdout is unchanged)'
            cand --quiet 'No messages on stderr, only errors (data on stdout is unchanged)'
            cand --wide 'Tables show every cell whole, however wide (default: cut to fit the terminal)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'peat;sync;unit'= {
            cand --dir 'Persistence directory of the node [default: the platform data dir + /peat]'
            cand -o 'Output format [default: table on a terminal, json when piped]'
            cand --output 'Output format [default: table on a terminal, json when piped]'
            cand -v 'More logging on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides'
            cand --verbose 'More logging on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides'
            cand -q 'No messages on stderr, only errors (data on stdout is unchanged)'
            cand --quiet 'No messages on stderr, only errors (data on stdout is unchanged)'
            cand --wide 'Tables show every cell whole, however wide (default: cut to fit the terminal)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'peat;sync;help'= {
            cand start 'Start the node: serve the directory and sync with peers'
            cand stop 'Stop the running node gracefully'
            cand status 'Show whether the node runs, and how it is doing'
            cand wait 'Wait until this node and its connected peers hold each other''s changes'
            cand unit 'Print a systemd unit that runs this directory''s node'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'peat;sync;help;start'= {
        }
        &'peat;sync;help;stop'= {
        }
        &'peat;sync;help;status'= {
        }
        &'peat;sync;help;wait'= {
        }
        &'peat;sync;help;unit'= {
        }
        &'peat;sync;help;help'= {
        }
        &'peat;completions'= {
            cand --dir 'Persistence directory of the node [default: the platform data dir + /peat]'
            cand -o 'Output format [default: table on a terminal, json when piped]'
            cand --output 'Output format [default: table on a terminal, json when piped]'
            cand -v 'More logging on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides'
            cand --verbose 'More logging on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides'
            cand -q 'No messages on stderr, only errors (data on stdout is unchanged)'
            cand --quiet 'No messages on stderr, only errors (data on stdout is unchanged)'
            cand --wide 'Tables show every cell whole, however wide (default: cut to fit the terminal)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'peat;generate'= {
            cand --out 'Directory that receives completions/ and man/'
            cand --dir 'Persistence directory of the node [default: the platform data dir + /peat]'
            cand -o 'Output format [default: table on a terminal, json when piped]'
            cand --output 'Output format [default: table on a terminal, json when piped]'
            cand -v 'More logging on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides'
            cand --verbose 'More logging on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides'
            cand -q 'No messages on stderr, only errors (data on stdout is unchanged)'
            cand --quiet 'No messages on stderr, only errors (data on stdout is unchanged)'
            cand --wide 'Tables show every cell whole, however wide (default: cut to fit the terminal)'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'peat;help'= {
            cand init 'Create a node: keys, config and an empty store'
            cand upsert 'Create or change documents'
            cand query 'Find documents'
            cand get 'Print documents by id'
            cand remove 'Remove documents'
            cand status 'Show the node''s identity and what it holds'
            cand watch 'Stream changes to documents as they happen'
            cand peers 'List, add or remove peers'
            cand export 'Write documents out as NDJSON or Automerge (a consistent snapshot)'
            cand import 'Merge an export file (either format) into the node'
            cand backup 'Back up the node: its store and config (and keys if asked) into a new directory'
            cand restore 'Restore a node from a backup directory'
            cand logs 'Show the node''s log (node.log)'
            cand doctor 'Check the store: every table reads, every document loads and matches its projection'
            cand repair 'Salvage a damaged store: copy every readable document into a new one'
            cand sync 'Run the node: start, stop, status, wait for peers'
            cand completions 'Print a shell completion script'
            cand generate 'Write completions and man pages into a directory (for packagers)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'peat;help;init'= {
        }
        &'peat;help;upsert'= {
        }
        &'peat;help;query'= {
        }
        &'peat;help;get'= {
        }
        &'peat;help;remove'= {
        }
        &'peat;help;status'= {
        }
        &'peat;help;watch'= {
        }
        &'peat;help;peers'= {
            cand list 'List known peers and their connection state (the default)'
            cand add 'Remember a peer and connect to it if the node runs'
            cand remove 'Forget a peer and drop its connection'
        }
        &'peat;help;peers;list'= {
        }
        &'peat;help;peers;add'= {
        }
        &'peat;help;peers;remove'= {
        }
        &'peat;help;export'= {
        }
        &'peat;help;import'= {
        }
        &'peat;help;backup'= {
        }
        &'peat;help;restore'= {
        }
        &'peat;help;logs'= {
        }
        &'peat;help;doctor'= {
        }
        &'peat;help;repair'= {
        }
        &'peat;help;sync'= {
            cand start 'Start the node: serve the directory and sync with peers'
            cand stop 'Stop the running node gracefully'
            cand status 'Show whether the node runs, and how it is doing'
            cand wait 'Wait until this node and its connected peers hold each other''s changes'
            cand unit 'Print a systemd unit that runs this directory''s node'
        }
        &'peat;help;sync;start'= {
        }
        &'peat;help;sync;stop'= {
        }
        &'peat;help;sync;status'= {
        }
        &'peat;help;sync;wait'= {
        }
        &'peat;help;sync;unit'= {
        }
        &'peat;help;completions'= {
        }
        &'peat;help;generate'= {
        }
        &'peat;help;help'= {
        }
    ]
    $completions[$command]
}
