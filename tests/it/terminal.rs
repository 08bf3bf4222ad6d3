//! What a person sees at a real terminal: peat run under script(1) in a pseudo-terminal of a
//! given width, the screen read back as text.

use crate::harness::Node;

/// NDJSON of `n` documents with a long note and a nested value.
fn convoy(n: usize) -> String {
    (0..n)
        .map(|i| {
            format!(
                "{{\"id\":\"unit-{i:03}\",\"speed\":{i},\"pos\":{{\"lat\":59.{i},\"lon\":18.{i}}},\"note\":\"{}\"}}\n",
                "a long note that goes on and on ".repeat(4)
            )
        })
        .collect()
}

/// The table rows of a screen (the lines between the borders that hold cells).
fn table_rows(screen: &str) -> Vec<&str> {
    screen.lines().filter(|l| l.starts_with('│')).collect()
}

#[test]
fn a_query_table_fits_the_terminal_keeps_ids_whole_and_shows_the_first_100_rows() {
    let node = Node::new();
    node.ok_with_stdin(&["upsert", "units"], &convoy(150));

    // $ peat query units        (a terminal 72 columns wide)
    let (code, screen) = node.at_terminal(72, &["query", "units"], "");
    assert_eq!(code, Some(0), "{screen}");
    for line in screen.lines().filter(|l| l.starts_with(['│', '┌', '└', '╞'])) {
        assert!(line.chars().count() <= 72, "wider than the terminal:\n{line}");
    }
    let rows = table_rows(&screen);
    assert_eq!(rows.len(), 101, "a header and 100 documents, one line each:\n{screen}");
    assert!(rows[1].starts_with("│ unit-000 ┆ "), "ids whole: {}", rows[1]);
    assert!(rows[1].contains('…'), "long cells cut with …: {}", rows[1]);
    assert!(
        screen.contains("peat: showing the first 100 of 150 documents; 50 more with --limit 0"),
        "{screen}"
    );

    // $ peat query units --limit 0 --wide
    let (_, screen) = node.at_terminal(72, &["query", "units", "--limit", "0", "--wide"], "");
    let rows = table_rows(&screen);
    assert_eq!(rows.len(), 151);
    assert!(rows[1].contains(r#"{"lat":59.0,"lon":18.0}"#), "nested values compact and whole: {}", rows[1]);
    assert!(!screen.contains('…') && rows[1].chars().count() > 72);
}

#[test]
fn fields_are_columns_in_the_order_given() {
    let node = Node::new();
    node.ok_with_stdin(&["upsert", "units"], &convoy(3));
    // $ peat query units --fields speed,pos.lat --limit 1
    let (_, screen) =
        node.at_terminal(100, &["query", "units", "--fields", "speed,pos.lat", "--limit", "1"], "");
    assert_eq!(
        screen,
        "┌──────────┬───────┬─────────┐\n\
         │ id       ┆ speed ┆ pos.lat │\n\
         ╞══════════╪═══════╪═════════╡\n\
         │ unit-000 ┆ 0     ┆ 59.0    │\n\
         └──────────┴───────┴─────────┘\n"
    );
}

#[test]
fn with_no_known_width_nothing_wraps() {
    let node = Node::new();
    node.ok_with_stdin(&["upsert", "units"], &convoy(3));
    // A terminal that does not say how wide it is.
    let (code, screen) = node.at_terminal(0, &["query", "units"], "");
    assert_eq!(code, Some(0));
    assert_eq!(table_rows(&screen).len(), 4, "one line per document:\n{screen}");
    assert!(!screen.contains('…'), "nothing cut either:\n{screen}");
}

#[test]
fn secrets_go_on_a_line_of_their_own_and_sync_status_shows_the_ticket_only_when_asked() {
    let node = Node::new();
    // $ peat init --listen 127.0.0.1:0     (at a terminal 60 columns wide)
    let (code, screen) = node.at_terminal(60, &["init", "--listen", "127.0.0.1:7999"], "");
    assert_eq!(code, Some(0), "{screen}");
    let lines: Vec<&str> = screen.lines().collect();
    let at = lines.iter().position(|l| l.contains("join ticket (a secret")).expect(&screen);
    let ticket = lines[at + 1];
    assert!(ticket.starts_with("peat1") && !ticket.contains(' ') && ticket.len() > 60, "{screen}");
    assert!(!lines[..at].iter().any(|l| l.contains("peat1")), "the ticket only once, whole:\n{screen}");
    let node_id = node.json(&["status"])["node_id"].as_str().unwrap().to_string();
    assert!(screen.contains(&node_id), "the node id whole, even at 60 columns:\n{screen}");

    node.start();
    let (_, screen) = node.at_terminal(60, &["sync", "status"], "");
    assert!(!screen.contains("peat1"), "{screen}");
    assert!(node.json(&["sync", "status", "-o", "json"]).get("ticket").is_none());
    let (_, screen) = node.at_terminal(60, &["sync", "status", "--show-ticket"], "");
    let lines: Vec<&str> = screen.lines().collect();
    let at = lines.iter().position(|l| l.contains("join ticket (a secret")).expect(&screen);
    assert!(lines[at + 1].starts_with("peat1") && !lines[at + 1].contains(' '), "{screen}");
    node.stop();
}

#[test]
fn an_upsert_of_many_documents_at_a_terminal_ends_with_one_summary_line() {
    let node = Node::new();
    let file = node.dir.with_file_name("convoy.ndjson");
    std::fs::write(&file, convoy(500)).unwrap();
    // $ peat upsert units --file convoy.ndjson
    let (code, screen) = node.at_terminal(100, &["upsert", "units", "--file", file.to_str().unwrap()], "");
    assert_eq!(code, Some(0), "{screen}");
    assert!(!screen.contains("unit-0"), "no id list:\n{screen}");
    let summary: Vec<&str> = screen.lines().filter(|l| l.starts_with("peat: wrote")).collect();
    assert_eq!(summary.len(), 1, "{screen}");
    let rate = summary[0].rsplit_once('(').unwrap().1.strip_suffix(" documents/s)").unwrap();
    assert!(summary[0].starts_with("peat: wrote 500 documents in "), "{}", summary[0]);
    assert!(rate.parse::<u64>().is_ok(), "the rate is a whole number: {}", summary[0]);
    // A single document still prints its id.
    let (_, screen) = node.at_terminal(100, &["upsert", "units", "one", "--set", "speed=1"], "");
    assert!(screen.lines().any(|l| l == "one"), "{screen}");
}
