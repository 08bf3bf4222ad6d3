
using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'peat' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'peat'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'peat' {
            [CompletionResult]::new('--dir', '--dir', [CompletionResultType]::ParameterName, 'Persistence directory of the node [default: the platform data dir + /peat]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format [default: table on a terminal, json when piped]')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format [default: table on a terminal, json when piped]')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'No messages on stderr, only errors (data on stdout is unchanged)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'No messages on stderr, only errors (data on stdout is unchanged)')
            [CompletionResult]::new('--wide', '--wide', [CompletionResultType]::ParameterName, 'Tables show every cell whole, however wide (default: cut to fit the terminal)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('init', 'init', [CompletionResultType]::ParameterValue, 'Create a node: keys, config and an empty store')
            [CompletionResult]::new('upsert', 'upsert', [CompletionResultType]::ParameterValue, 'Create or change documents')
            [CompletionResult]::new('query', 'query', [CompletionResultType]::ParameterValue, 'Find documents')
            [CompletionResult]::new('get', 'get', [CompletionResultType]::ParameterValue, 'Print documents by id')
            [CompletionResult]::new('remove', 'remove', [CompletionResultType]::ParameterValue, 'Remove documents')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Show the node''s identity and what it holds')
            [CompletionResult]::new('watch', 'watch', [CompletionResultType]::ParameterValue, 'Stream changes to documents as they happen')
            [CompletionResult]::new('peers', 'peers', [CompletionResultType]::ParameterValue, 'List, add or remove peers')
            [CompletionResult]::new('export', 'export', [CompletionResultType]::ParameterValue, 'Write documents out as NDJSON or Automerge (a consistent snapshot)')
            [CompletionResult]::new('import', 'import', [CompletionResultType]::ParameterValue, 'Merge an export file (either format) into the node')
            [CompletionResult]::new('backup', 'backup', [CompletionResultType]::ParameterValue, 'Back up the node: its store and config (and keys if asked) into a new directory')
            [CompletionResult]::new('restore', 'restore', [CompletionResultType]::ParameterValue, 'Restore a node from a backup directory')
            [CompletionResult]::new('logs', 'logs', [CompletionResultType]::ParameterValue, 'Show the node''s log (node.log)')
            [CompletionResult]::new('doctor', 'doctor', [CompletionResultType]::ParameterValue, 'Check the store: every table reads, every document loads and matches its projection')
            [CompletionResult]::new('repair', 'repair', [CompletionResultType]::ParameterValue, 'Salvage a damaged store: copy every readable document into a new one')
            [CompletionResult]::new('sync', 'sync', [CompletionResultType]::ParameterValue, 'Run the node: start, stop, status, wait for peers')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script')
            [CompletionResult]::new('generate', 'generate', [CompletionResultType]::ParameterValue, 'Write completions and man pages into a directory (for packagers)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'peat;init' {
            [CompletionResult]::new('--app-id', '--app-id', [CompletionResultType]::ParameterName, 'Application id: nodes sync only within one app id')
            [CompletionResult]::new('--join', '--join', [CompletionResultType]::ParameterName, 'Join the formation of the node that printed this ticket')
            [CompletionResult]::new('--listen', '--listen', [CompletionResultType]::ParameterName, 'UDP address for the sync endpoint [default: 0.0.0.0:7890]')
            [CompletionResult]::new('--dir', '--dir', [CompletionResultType]::ParameterName, 'Persistence directory of the node [default: the platform data dir + /peat]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format [default: table on a terminal, json when piped]')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format [default: table on a terminal, json when piped]')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Replace the keys and config of an initialised directory (documents are kept); refused while its node runs, and asks first on a terminal')
            [CompletionResult]::new('-y', '-y', [CompletionResultType]::ParameterName, 'Do not ask before --force replaces a node')
            [CompletionResult]::new('--yes', '--yes', [CompletionResultType]::ParameterName, 'Do not ask before --force replaces a node')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'No messages on stderr, only errors (data on stdout is unchanged)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'No messages on stderr, only errors (data on stdout is unchanged)')
            [CompletionResult]::new('--wide', '--wide', [CompletionResultType]::ParameterName, 'Tables show every cell whole, however wide (default: cut to fit the terminal)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'peat;upsert' {
            [CompletionResult]::new('-s', '-s', [CompletionResultType]::ParameterName, 'Set one path, e.g. pos.lat=59.3 or tags[0]=red (repeatable)')
            [CompletionResult]::new('--set', '--set', [CompletionResultType]::ParameterName, 'Set one path, e.g. pos.lat=59.3 or tags[0]=red (repeatable)')
            [CompletionResult]::new('--json', '--json', [CompletionResultType]::ParameterName, 'The document as a JSON object')
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Read documents from a file (''-'' for stdin)')
            [CompletionResult]::new('--file', '--file', [CompletionResultType]::ParameterName, 'Read documents from a file (''-'' for stdin)')
            [CompletionResult]::new('--wait-for-sync', '--wait-for-sync', [CompletionResultType]::ParameterName, 'Then wait until connected peers hold the change (default 30s; needs a running node)')
            [CompletionResult]::new('--dir', '--dir', [CompletionResultType]::ParameterName, 'Persistence directory of the node [default: the platform data dir + /peat]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format [default: table on a terminal, json when piped]')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format [default: table on a terminal, json when piped]')
            [CompletionResult]::new('--replace', '--replace', [CompletionResultType]::ParameterName, 'Make each document equal to the input (drop fields it does not name)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'No messages on stderr, only errors (data on stdout is unchanged)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'No messages on stderr, only errors (data on stdout is unchanged)')
            [CompletionResult]::new('--wide', '--wide', [CompletionResultType]::ParameterName, 'Tables show every cell whole, however wide (default: cut to fit the terminal)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'peat;query' {
            [CompletionResult]::new('-w', '-w', [CompletionResultType]::ParameterName, 'Filter expression (repeatable; all must hold)')
            [CompletionResult]::new('--where', '--where', [CompletionResultType]::ParameterName, 'Filter expression (repeatable; all must hold)')
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'Return at most N documents (0: all; on a terminal the default is the first 100)')
            [CompletionResult]::new('--limit', '--limit', [CompletionResultType]::ParameterName, 'Return at most N documents (0: all; on a terminal the default is the first 100)')
            [CompletionResult]::new('--order-by', '--order-by', [CompletionResultType]::ParameterName, 'Sort by this path (missing values last)')
            [CompletionResult]::new('--fields', '--fields', [CompletionResultType]::ParameterName, 'Print only these paths, as columns in this order (comma-separated; id is always kept)')
            [CompletionResult]::new('--dir', '--dir', [CompletionResultType]::ParameterName, 'Persistence directory of the node [default: the platform data dir + /peat]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format [default: table on a terminal, json when piped]')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format [default: table on a terminal, json when piped]')
            [CompletionResult]::new('--desc', '--desc', [CompletionResultType]::ParameterName, 'Sort descending')
            [CompletionResult]::new('--count', '--count', [CompletionResultType]::ParameterName, 'Print only the number of matches')
            [CompletionResult]::new('--include-deleted', '--include-deleted', [CompletionResultType]::ParameterName, 'Include removed documents (marked "_deleted": true)')
            [CompletionResult]::new('--deleted-only', '--deleted-only', [CompletionResultType]::ParameterName, 'Only removed documents')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'No messages on stderr, only errors (data on stdout is unchanged)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'No messages on stderr, only errors (data on stdout is unchanged)')
            [CompletionResult]::new('--wide', '--wide', [CompletionResultType]::ParameterName, 'Tables show every cell whole, however wide (default: cut to fit the terminal)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'peat;get' {
            [CompletionResult]::new('--dir', '--dir', [CompletionResultType]::ParameterName, 'Persistence directory of the node [default: the platform data dir + /peat]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format [default: table on a terminal, json when piped]')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format [default: table on a terminal, json when piped]')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'No messages on stderr, only errors (data on stdout is unchanged)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'No messages on stderr, only errors (data on stdout is unchanged)')
            [CompletionResult]::new('--wide', '--wide', [CompletionResultType]::ParameterName, 'Tables show every cell whole, however wide (default: cut to fit the terminal)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'peat;remove' {
            [CompletionResult]::new('--wait-for-sync', '--wait-for-sync', [CompletionResultType]::ParameterName, 'Then wait until connected peers hold the removal (default 30s; needs a running node)')
            [CompletionResult]::new('--dir', '--dir', [CompletionResultType]::ParameterName, 'Persistence directory of the node [default: the platform data dir + /peat]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format [default: table on a terminal, json when piped]')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format [default: table on a terminal, json when piped]')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'No messages on stderr, only errors (data on stdout is unchanged)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'No messages on stderr, only errors (data on stdout is unchanged)')
            [CompletionResult]::new('--wide', '--wide', [CompletionResultType]::ParameterName, 'Tables show every cell whole, however wide (default: cut to fit the terminal)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'peat;status' {
            [CompletionResult]::new('--dir', '--dir', [CompletionResultType]::ParameterName, 'Persistence directory of the node [default: the platform data dir + /peat]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format [default: table on a terminal, json when piped]')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format [default: table on a terminal, json when piped]')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'No messages on stderr, only errors (data on stdout is unchanged)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'No messages on stderr, only errors (data on stdout is unchanged)')
            [CompletionResult]::new('--wide', '--wide', [CompletionResultType]::ParameterName, 'Tables show every cell whole, however wide (default: cut to fit the terminal)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'peat;watch' {
            [CompletionResult]::new('-w', '-w', [CompletionResultType]::ParameterName, 'Only documents matching this expression (repeatable; all must hold)')
            [CompletionResult]::new('--where', '--where', [CompletionResultType]::ParameterName, 'Only documents matching this expression (repeatable; all must hold)')
            [CompletionResult]::new('-c', '-c', [CompletionResultType]::ParameterName, 'Exit after this many events')
            [CompletionResult]::new('--count', '--count', [CompletionResultType]::ParameterName, 'Exit after this many events')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Stop after this long (e.g. 30s): exit 0, or 1 if --count events had not come')
            [CompletionResult]::new('--dir', '--dir', [CompletionResultType]::ParameterName, 'Persistence directory of the node [default: the platform data dir + /peat]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format [default: table on a terminal, json when piped]')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format [default: table on a terminal, json when piped]')
            [CompletionResult]::new('--no-initial', '--no-initial', [CompletionResultType]::ParameterName, 'Skip the current matches; only report changes')
            [CompletionResult]::new('--no-reconnect', '--no-reconnect', [CompletionResultType]::ParameterName, 'Exit 1 when the node stops, instead of waiting for it and resuming')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'No messages on stderr, only errors (data on stdout is unchanged)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'No messages on stderr, only errors (data on stdout is unchanged)')
            [CompletionResult]::new('--wide', '--wide', [CompletionResultType]::ParameterName, 'Tables show every cell whole, however wide (default: cut to fit the terminal)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'peat;peers' {
            [CompletionResult]::new('--dir', '--dir', [CompletionResultType]::ParameterName, 'Persistence directory of the node [default: the platform data dir + /peat]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format [default: table on a terminal, json when piped]')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format [default: table on a terminal, json when piped]')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'No messages on stderr, only errors (data on stdout is unchanged)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'No messages on stderr, only errors (data on stdout is unchanged)')
            [CompletionResult]::new('--wide', '--wide', [CompletionResultType]::ParameterName, 'Tables show every cell whole, however wide (default: cut to fit the terminal)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List known peers and their connection state (the default)')
            [CompletionResult]::new('add', 'add', [CompletionResultType]::ParameterValue, 'Remember a peer and connect to it if the node runs')
            [CompletionResult]::new('remove', 'remove', [CompletionResultType]::ParameterValue, 'Forget a peer and drop its connection')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'peat;peers;list' {
            [CompletionResult]::new('--dir', '--dir', [CompletionResultType]::ParameterName, 'Persistence directory of the node [default: the platform data dir + /peat]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format [default: table on a terminal, json when piped]')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format [default: table on a terminal, json when piped]')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'No messages on stderr, only errors (data on stdout is unchanged)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'No messages on stderr, only errors (data on stdout is unchanged)')
            [CompletionResult]::new('--wide', '--wide', [CompletionResultType]::ParameterName, 'Tables show every cell whole, however wide (default: cut to fit the terminal)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'peat;peers;add' {
            [CompletionResult]::new('--dir', '--dir', [CompletionResultType]::ParameterName, 'Persistence directory of the node [default: the platform data dir + /peat]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format [default: table on a terminal, json when piped]')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format [default: table on a terminal, json when piped]')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'No messages on stderr, only errors (data on stdout is unchanged)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'No messages on stderr, only errors (data on stdout is unchanged)')
            [CompletionResult]::new('--wide', '--wide', [CompletionResultType]::ParameterName, 'Tables show every cell whole, however wide (default: cut to fit the terminal)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'peat;peers;remove' {
            [CompletionResult]::new('--dir', '--dir', [CompletionResultType]::ParameterName, 'Persistence directory of the node [default: the platform data dir + /peat]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format [default: table on a terminal, json when piped]')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format [default: table on a terminal, json when piped]')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'No messages on stderr, only errors (data on stdout is unchanged)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'No messages on stderr, only errors (data on stdout is unchanged)')
            [CompletionResult]::new('--wide', '--wide', [CompletionResultType]::ParameterName, 'Tables show every cell whole, however wide (default: cut to fit the terminal)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'peat;peers;help' {
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List known peers and their connection state (the default)')
            [CompletionResult]::new('add', 'add', [CompletionResultType]::ParameterValue, 'Remember a peer and connect to it if the node runs')
            [CompletionResult]::new('remove', 'remove', [CompletionResultType]::ParameterValue, 'Forget a peer and drop its connection')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'peat;peers;help;list' {
            break
        }
        'peat;peers;help;add' {
            break
        }
        'peat;peers;help;remove' {
            break
        }
        'peat;peers;help;help' {
            break
        }
        'peat;export' {
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'What each record carries: the document''s JSON, or its Automerge document with history')
            [CompletionResult]::new('--out', '--out', [CompletionResultType]::ParameterName, 'Write to FILE instead of stdout (-o is the global output format)')
            [CompletionResult]::new('--dir', '--dir', [CompletionResultType]::ParameterName, 'Persistence directory of the node [default: the platform data dir + /peat]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format [default: table on a terminal, json when piped]')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format [default: table on a terminal, json when piped]')
            [CompletionResult]::new('--include-deleted', '--include-deleted', [CompletionResultType]::ParameterName, 'Include removed documents (ndjson; the automerge format always carries tombstones)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'No messages on stderr, only errors (data on stdout is unchanged)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'No messages on stderr, only errors (data on stdout is unchanged)')
            [CompletionResult]::new('--wide', '--wide', [CompletionResultType]::ParameterName, 'Tables show every cell whole, however wide (default: cut to fit the terminal)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'peat;import' {
            [CompletionResult]::new('--dir', '--dir', [CompletionResultType]::ParameterName, 'Persistence directory of the node [default: the platform data dir + /peat]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format [default: table on a terminal, json when piped]')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format [default: table on a terminal, json when piped]')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'No messages on stderr, only errors (data on stdout is unchanged)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'No messages on stderr, only errors (data on stdout is unchanged)')
            [CompletionResult]::new('--wide', '--wide', [CompletionResultType]::ParameterName, 'Tables show every cell whole, however wide (default: cut to fit the terminal)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'peat;backup' {
            [CompletionResult]::new('--dir', '--dir', [CompletionResultType]::ParameterName, 'Persistence directory of the node [default: the platform data dir + /peat]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format [default: table on a terminal, json when piped]')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format [default: table on a terminal, json when piped]')
            [CompletionResult]::new('--include-keys', '--include-keys', [CompletionResultType]::ParameterName, 'Also copy identity.key and formation.key (secrets: keep the backup private)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'No messages on stderr, only errors (data on stdout is unchanged)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'No messages on stderr, only errors (data on stdout is unchanged)')
            [CompletionResult]::new('--wide', '--wide', [CompletionResultType]::ParameterName, 'Tables show every cell whole, however wide (default: cut to fit the terminal)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'peat;restore' {
            [CompletionResult]::new('--dir', '--dir', [CompletionResultType]::ParameterName, 'Persistence directory of the node [default: the platform data dir + /peat]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format [default: table on a terminal, json when piped]')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format [default: table on a terminal, json when piped]')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Replace the directory''s existing store')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'No messages on stderr, only errors (data on stdout is unchanged)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'No messages on stderr, only errors (data on stdout is unchanged)')
            [CompletionResult]::new('--wide', '--wide', [CompletionResultType]::ParameterName, 'Tables show every cell whole, however wide (default: cut to fit the terminal)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'peat;logs' {
            [CompletionResult]::new('-n', '-n', [CompletionResultType]::ParameterName, 'How many of the last lines to print first')
            [CompletionResult]::new('--lines', '--lines', [CompletionResultType]::ParameterName, 'How many of the last lines to print first')
            [CompletionResult]::new('--dir', '--dir', [CompletionResultType]::ParameterName, 'Persistence directory of the node [default: the platform data dir + /peat]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format [default: table on a terminal, json when piped]')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format [default: table on a terminal, json when piped]')
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Follow: print new lines as they are written, until Ctrl-C')
            [CompletionResult]::new('--follow', '--follow', [CompletionResultType]::ParameterName, 'Follow: print new lines as they are written, until Ctrl-C')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'No messages on stderr, only errors (data on stdout is unchanged)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'No messages on stderr, only errors (data on stdout is unchanged)')
            [CompletionResult]::new('--wide', '--wide', [CompletionResultType]::ParameterName, 'Tables show every cell whole, however wide (default: cut to fit the terminal)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'peat;doctor' {
            [CompletionResult]::new('--dir', '--dir', [CompletionResultType]::ParameterName, 'Persistence directory of the node [default: the platform data dir + /peat]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format [default: table on a terminal, json when piped]')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format [default: table on a terminal, json when piped]')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'No messages on stderr, only errors (data on stdout is unchanged)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'No messages on stderr, only errors (data on stdout is unchanged)')
            [CompletionResult]::new('--wide', '--wide', [CompletionResultType]::ParameterName, 'Tables show every cell whole, however wide (default: cut to fit the terminal)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'peat;repair' {
            [CompletionResult]::new('--dir', '--dir', [CompletionResultType]::ParameterName, 'Persistence directory of the node [default: the platform data dir + /peat]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format [default: table on a terminal, json when piped]')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format [default: table on a terminal, json when piped]')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'No messages on stderr, only errors (data on stdout is unchanged)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'No messages on stderr, only errors (data on stdout is unchanged)')
            [CompletionResult]::new('--wide', '--wide', [CompletionResultType]::ParameterName, 'Tables show every cell whole, however wide (default: cut to fit the terminal)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'peat;sync' {
            [CompletionResult]::new('--dir', '--dir', [CompletionResultType]::ParameterName, 'Persistence directory of the node [default: the platform data dir + /peat]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format [default: table on a terminal, json when piped]')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format [default: table on a terminal, json when piped]')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'No messages on stderr, only errors (data on stdout is unchanged)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'No messages on stderr, only errors (data on stdout is unchanged)')
            [CompletionResult]::new('--wide', '--wide', [CompletionResultType]::ParameterName, 'Tables show every cell whole, however wide (default: cut to fit the terminal)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('start', 'start', [CompletionResultType]::ParameterValue, 'Start the node: serve the directory and sync with peers')
            [CompletionResult]::new('stop', 'stop', [CompletionResultType]::ParameterValue, 'Stop the running node gracefully')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Show whether the node runs, and how it is doing')
            [CompletionResult]::new('wait', 'wait', [CompletionResultType]::ParameterValue, 'Wait until this node and its connected peers hold each other''s changes')
            [CompletionResult]::new('unit', 'unit', [CompletionResultType]::ParameterValue, 'Print a systemd unit that runs this directory''s node')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'peat;sync;start' {
            [CompletionResult]::new('--listen', '--listen', [CompletionResultType]::ParameterName, 'UDP address of the sync endpoint, e.g. 0.0.0.0:7890 (saved in config.toml)')
            [CompletionResult]::new('--advertise', '--advertise', [CompletionResultType]::ParameterName, 'HOST:PORT that peers can dial to reach this node, put first in join tickets: for NAT, port forwards and containers (repeatable; replaces the saved list in config.toml)')
            [CompletionResult]::new('--relay', '--relay', [CompletionResultType]::ParameterName, 'URL of an Iroh relay server you run (e.g. http://10.0.0.5:3340), for peers with no direct path to each other (repeatable; replaces the saved list in config.toml)')
            [CompletionResult]::new('--dir', '--dir', [CompletionResultType]::ParameterName, 'Persistence directory of the node [default: the platform data dir + /peat]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format [default: table on a terminal, json when piped]')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format [default: table on a terminal, json when piped]')
            [CompletionResult]::new('--foreground', '--foreground', [CompletionResultType]::ParameterName, 'Stay attached: log to stderr, stop on SIGTERM/Ctrl-C')
            [CompletionResult]::new('--log-file', '--log-file', [CompletionResultType]::ParameterName, 'Log to node.log in the directory, rotated by size (how `sync start` runs the node)')
            [CompletionResult]::new('--mdns', '--mdns', [CompletionResultType]::ParameterName, 'Find and dial peers on the local network with mDNS (saved in config.toml)')
            [CompletionResult]::new('--relays', '--relays', [CompletionResultType]::ParameterName, 'Use the public Iroh relays to reach peers behind NAT (saved in config.toml)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'No messages on stderr, only errors (data on stdout is unchanged)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'No messages on stderr, only errors (data on stdout is unchanged)')
            [CompletionResult]::new('--wide', '--wide', [CompletionResultType]::ParameterName, 'Tables show every cell whole, however wide (default: cut to fit the terminal)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'peat;sync;stop' {
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'How long to wait for the node to exit (e.g. 10s, 500ms)')
            [CompletionResult]::new('--dir', '--dir', [CompletionResultType]::ParameterName, 'Persistence directory of the node [default: the platform data dir + /peat]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format [default: table on a terminal, json when piped]')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format [default: table on a terminal, json when piped]')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'No messages on stderr, only errors (data on stdout is unchanged)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'No messages on stderr, only errors (data on stdout is unchanged)')
            [CompletionResult]::new('--wide', '--wide', [CompletionResultType]::ParameterName, 'Tables show every cell whole, however wide (default: cut to fit the terminal)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'peat;sync;status' {
            [CompletionResult]::new('--dir', '--dir', [CompletionResultType]::ParameterName, 'Persistence directory of the node [default: the platform data dir + /peat]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format [default: table on a terminal, json when piped]')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format [default: table on a terminal, json when piped]')
            [CompletionResult]::new('--show-ticket', '--show-ticket', [CompletionResultType]::ParameterName, 'Also print a join ticket of the running node (a secret: it holds the formation key)')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'No messages on stderr, only errors (data on stdout is unchanged)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'No messages on stderr, only errors (data on stdout is unchanged)')
            [CompletionResult]::new('--wide', '--wide', [CompletionResultType]::ParameterName, 'Tables show every cell whole, however wide (default: cut to fit the terminal)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'peat;sync;wait' {
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Give up after this long')
            [CompletionResult]::new('--dir', '--dir', [CompletionResultType]::ParameterName, 'Persistence directory of the node [default: the platform data dir + /peat]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format [default: table on a terminal, json when piped]')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format [default: table on a terminal, json when piped]')
            [CompletionResult]::new('--push', '--push', [CompletionResultType]::ParameterName, 'Only wait until connected peers hold this node''s changes')
            [CompletionResult]::new('--pull', '--pull', [CompletionResultType]::ParameterName, 'Only wait until this node holds what connected peers had when the wait began')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'No messages on stderr, only errors (data on stdout is unchanged)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'No messages on stderr, only errors (data on stdout is unchanged)')
            [CompletionResult]::new('--wide', '--wide', [CompletionResultType]::ParameterName, 'Tables show every cell whole, however wide (default: cut to fit the terminal)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'peat;sync;unit' {
            [CompletionResult]::new('--dir', '--dir', [CompletionResultType]::ParameterName, 'Persistence directory of the node [default: the platform data dir + /peat]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format [default: table on a terminal, json when piped]')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format [default: table on a terminal, json when piped]')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'No messages on stderr, only errors (data on stdout is unchanged)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'No messages on stderr, only errors (data on stdout is unchanged)')
            [CompletionResult]::new('--wide', '--wide', [CompletionResultType]::ParameterName, 'Tables show every cell whole, however wide (default: cut to fit the terminal)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'peat;sync;help' {
            [CompletionResult]::new('start', 'start', [CompletionResultType]::ParameterValue, 'Start the node: serve the directory and sync with peers')
            [CompletionResult]::new('stop', 'stop', [CompletionResultType]::ParameterValue, 'Stop the running node gracefully')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Show whether the node runs, and how it is doing')
            [CompletionResult]::new('wait', 'wait', [CompletionResultType]::ParameterValue, 'Wait until this node and its connected peers hold each other''s changes')
            [CompletionResult]::new('unit', 'unit', [CompletionResultType]::ParameterValue, 'Print a systemd unit that runs this directory''s node')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'peat;sync;help;start' {
            break
        }
        'peat;sync;help;stop' {
            break
        }
        'peat;sync;help;status' {
            break
        }
        'peat;sync;help;wait' {
            break
        }
        'peat;sync;help;unit' {
            break
        }
        'peat;sync;help;help' {
            break
        }
        'peat;completions' {
            [CompletionResult]::new('--dir', '--dir', [CompletionResultType]::ParameterName, 'Persistence directory of the node [default: the platform data dir + /peat]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format [default: table on a terminal, json when piped]')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format [default: table on a terminal, json when piped]')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'No messages on stderr, only errors (data on stdout is unchanged)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'No messages on stderr, only errors (data on stdout is unchanged)')
            [CompletionResult]::new('--wide', '--wide', [CompletionResultType]::ParameterName, 'Tables show every cell whole, however wide (default: cut to fit the terminal)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'peat;generate' {
            [CompletionResult]::new('--out', '--out', [CompletionResultType]::ParameterName, 'Directory that receives completions/ and man/')
            [CompletionResult]::new('--dir', '--dir', [CompletionResultType]::ParameterName, 'Persistence directory of the node [default: the platform data dir + /peat]')
            [CompletionResult]::new('-o', '-o', [CompletionResultType]::ParameterName, 'Output format [default: table on a terminal, json when piped]')
            [CompletionResult]::new('--output', '--output', [CompletionResultType]::ParameterName, 'Output format [default: table on a terminal, json when piped]')
            [CompletionResult]::new('-v', '-v', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides')
            [CompletionResult]::new('--verbose', '--verbose', [CompletionResultType]::ParameterName, 'More logging on stderr (-v info, -vv debug, -vvv trace); RUST_LOG overrides')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'No messages on stderr, only errors (data on stdout is unchanged)')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'No messages on stderr, only errors (data on stdout is unchanged)')
            [CompletionResult]::new('--wide', '--wide', [CompletionResultType]::ParameterName, 'Tables show every cell whole, however wide (default: cut to fit the terminal)')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'peat;help' {
            [CompletionResult]::new('init', 'init', [CompletionResultType]::ParameterValue, 'Create a node: keys, config and an empty store')
            [CompletionResult]::new('upsert', 'upsert', [CompletionResultType]::ParameterValue, 'Create or change documents')
            [CompletionResult]::new('query', 'query', [CompletionResultType]::ParameterValue, 'Find documents')
            [CompletionResult]::new('get', 'get', [CompletionResultType]::ParameterValue, 'Print documents by id')
            [CompletionResult]::new('remove', 'remove', [CompletionResultType]::ParameterValue, 'Remove documents')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Show the node''s identity and what it holds')
            [CompletionResult]::new('watch', 'watch', [CompletionResultType]::ParameterValue, 'Stream changes to documents as they happen')
            [CompletionResult]::new('peers', 'peers', [CompletionResultType]::ParameterValue, 'List, add or remove peers')
            [CompletionResult]::new('export', 'export', [CompletionResultType]::ParameterValue, 'Write documents out as NDJSON or Automerge (a consistent snapshot)')
            [CompletionResult]::new('import', 'import', [CompletionResultType]::ParameterValue, 'Merge an export file (either format) into the node')
            [CompletionResult]::new('backup', 'backup', [CompletionResultType]::ParameterValue, 'Back up the node: its store and config (and keys if asked) into a new directory')
            [CompletionResult]::new('restore', 'restore', [CompletionResultType]::ParameterValue, 'Restore a node from a backup directory')
            [CompletionResult]::new('logs', 'logs', [CompletionResultType]::ParameterValue, 'Show the node''s log (node.log)')
            [CompletionResult]::new('doctor', 'doctor', [CompletionResultType]::ParameterValue, 'Check the store: every table reads, every document loads and matches its projection')
            [CompletionResult]::new('repair', 'repair', [CompletionResultType]::ParameterValue, 'Salvage a damaged store: copy every readable document into a new one')
            [CompletionResult]::new('sync', 'sync', [CompletionResultType]::ParameterValue, 'Run the node: start, stop, status, wait for peers')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script')
            [CompletionResult]::new('generate', 'generate', [CompletionResultType]::ParameterValue, 'Write completions and man pages into a directory (for packagers)')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'peat;help;init' {
            break
        }
        'peat;help;upsert' {
            break
        }
        'peat;help;query' {
            break
        }
        'peat;help;get' {
            break
        }
        'peat;help;remove' {
            break
        }
        'peat;help;status' {
            break
        }
        'peat;help;watch' {
            break
        }
        'peat;help;peers' {
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List known peers and their connection state (the default)')
            [CompletionResult]::new('add', 'add', [CompletionResultType]::ParameterValue, 'Remember a peer and connect to it if the node runs')
            [CompletionResult]::new('remove', 'remove', [CompletionResultType]::ParameterValue, 'Forget a peer and drop its connection')
            break
        }
        'peat;help;peers;list' {
            break
        }
        'peat;help;peers;add' {
            break
        }
        'peat;help;peers;remove' {
            break
        }
        'peat;help;export' {
            break
        }
        'peat;help;import' {
            break
        }
        'peat;help;backup' {
            break
        }
        'peat;help;restore' {
            break
        }
        'peat;help;logs' {
            break
        }
        'peat;help;doctor' {
            break
        }
        'peat;help;repair' {
            break
        }
        'peat;help;sync' {
            [CompletionResult]::new('start', 'start', [CompletionResultType]::ParameterValue, 'Start the node: serve the directory and sync with peers')
            [CompletionResult]::new('stop', 'stop', [CompletionResultType]::ParameterValue, 'Stop the running node gracefully')
            [CompletionResult]::new('status', 'status', [CompletionResultType]::ParameterValue, 'Show whether the node runs, and how it is doing')
            [CompletionResult]::new('wait', 'wait', [CompletionResultType]::ParameterValue, 'Wait until this node and its connected peers hold each other''s changes')
            [CompletionResult]::new('unit', 'unit', [CompletionResultType]::ParameterValue, 'Print a systemd unit that runs this directory''s node')
            break
        }
        'peat;help;sync;start' {
            break
        }
        'peat;help;sync;stop' {
            break
        }
        'peat;help;sync;status' {
            break
        }
        'peat;help;sync;wait' {
            break
        }
        'peat;help;sync;unit' {
            break
        }
        'peat;help;completions' {
            break
        }
        'peat;help;generate' {
            break
        }
        'peat;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}
