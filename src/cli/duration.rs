//! Durations on the command line: `30` (seconds), `1.5s`, `250ms`, `2m`, `1h`, `7d`.

use std::time::Duration;

/// Parses a time to live: a duration of at least one second, in whole seconds (rounded up).
pub fn ttl(s: &str) -> Result<u64, String> {
    let d = parse(s)?;
    if d.is_zero() {
        return Err(format!("'{s}': a time to live must be longer than 0"));
    }
    Ok(d.as_secs() + u64::from(d.subsec_nanos() > 0))
}

/// Parses a duration; for clap's `value_parser`.
pub fn parse(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let split = s.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(s.len());
    let (number, unit) = s.split_at(split);
    let n: f64 = number.parse().map_err(|_| format!("'{s}' is not a duration (e.g. 30s, 250ms, 2m)"))?;
    let scale = match unit {
        "" | "s" => 1.0,
        "ms" => 0.001,
        "m" => 60.0,
        "h" => 3600.0,
        "d" => 86_400.0,
        _ => return Err(format!("'{s}': unknown unit '{unit}' (use ms, s, m, h or d)")),
    };
    Duration::try_from_secs_f64(n * scale).map_err(|_| format!("'{s}' is out of range"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units() {
        assert_eq!(parse("30").unwrap(), Duration::from_secs(30));
        assert_eq!(parse("1.5s").unwrap(), Duration::from_millis(1500));
        assert_eq!(parse("250ms").unwrap(), Duration::from_millis(250));
        assert_eq!(parse("2m").unwrap(), Duration::from_secs(120));
        assert_eq!(parse("1h").unwrap(), Duration::from_secs(3600));
        assert_eq!(parse("2d").unwrap(), Duration::from_secs(172_800));
        assert_eq!(ttl("1.5s").unwrap(), 2);
        assert!(ttl("0s").is_err());
        for bad in ["", "s", "5x", "-1s", "1.2.3"] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
