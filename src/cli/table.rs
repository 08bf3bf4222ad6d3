//! Tables that fit the terminal: cells too long for their share of the width are cut with
//! `…`, never wrapped (a wrapped id or JSON value cannot be copied); columns that hold ids are
//! kept whole. With `--wide`, or when the width is not known (output piped with `-o table`),
//! nothing is cut and nothing wraps.

use comfy_table::{ContentArrangement, Table, presets};

/// No truncated cell is narrower than this (three characters and `…`).
const MIN_CELL: usize = 4;

/// The width of the terminal on stdout, if stdout is one and it says.
pub fn terminal_width() -> Option<usize> {
    // SAFETY: TIOCGWINSZ fills the winsize struct we pass, or fails and leaves it zeroed.
    let mut size: libc::winsize = unsafe { std::mem::zeroed() };
    let ok = unsafe { libc::ioctl(libc::STDOUT_FILENO, libc::TIOCGWINSZ, &mut size) } == 0;
    (ok && size.ws_col > 0).then_some(usize::from(size.ws_col))
}

/// `text` cut to `width` characters, the last one `…` when anything was cut; control
/// characters shown as escapes or spaces, so that a cell stays on one line.
pub fn truncate(text: &str, width: Option<usize>) -> String {
    let flat: String = text
        .chars()
        .flat_map(|c| match c {
            '\n' => vec!['\\', 'n'],
            c if c.is_control() => vec![' '],
            c => vec![c],
        })
        .collect();
    match width {
        Some(w) if flat.chars().count() > w => {
            flat.chars().take(w.saturating_sub(1)).chain(std::iter::once('…')).collect()
        }
        _ => flat,
    }
}

/// Rows of text cells under an optional header, rendered to fit a width.
pub struct Grid {
    header: Option<Vec<String>>,
    rows: Vec<Vec<String>>,
    whole: Vec<usize>,
}

impl Grid {
    pub fn new(header: Option<Vec<String>>) -> Self {
        Self { header, rows: Vec::new(), whole: Vec::new() }
    }

    /// Never cut the cells of this column (ids).
    pub fn whole(mut self, column: usize) -> Self {
        self.whole.push(column);
        self
    }

    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }

    /// The table as text, each column cut to its share of `width` (when known).
    pub fn render(self, width: Option<usize>) -> String {
        let columns =
            self.header.as_ref().map_or(0, Vec::len).max(self.rows.iter().map(Vec::len).max().unwrap_or(0));
        let widths = width.map(|w| self.fit(columns, w));
        let cut = |cells: &[String]| -> Vec<String> {
            cells.iter().enumerate().map(|(i, c)| truncate(c, widths.as_ref().map(|w| w[i]))).collect()
        };
        let mut table = Table::new();
        table.load_style(presets::UTF8_FULL_CONDENSED).set_content_arrangement(ContentArrangement::Disabled);
        if let Some(header) = &self.header {
            table.set_header(cut(header));
        }
        for row in &self.rows {
            table.add_row(cut(row));
        }
        table.to_string()
    }

    /// Column widths within `width`: columns that fit keep their width; the others share
    /// what the whole columns and the borders leave, narrowest first.
    fn fit(&self, columns: usize, width: usize) -> Vec<usize> {
        let mut natural = vec![0; columns];
        for cells in self.header.iter().chain(&self.rows) {
            for (i, c) in cells.iter().enumerate() {
                natural[i] = natural[i].max(truncate(c, None).chars().count());
            }
        }
        // Each column has a space either side and a border; the table one more border.
        let budget = width.saturating_sub(3 * columns + 1);
        if natural.iter().sum::<usize>() <= budget {
            return natural;
        }
        let mut widths = natural.clone();
        let fixed: usize = self.whole.iter().filter_map(|&i| natural.get(i)).sum();
        let mut left = budget.saturating_sub(fixed);
        let mut flexible: Vec<usize> = (0..columns).filter(|i| !self.whole.contains(i)).collect();
        flexible.sort_by_key(|&i| natural[i]);
        for (done, &i) in flexible.iter().enumerate() {
            let share = left / (flexible.len() - done);
            widths[i] = natural[i].min(share.max(MIN_CELL));
            left = left.saturating_sub(widths[i]);
        }
        widths
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_are_cut_with_an_ellipsis_and_control_characters_stay_on_one_line() {
        assert_eq!(truncate("abcdef", Some(4)), "abc…");
        assert_eq!(truncate("abcd", Some(4)), "abcd");
        assert_eq!(truncate("a\nb\tc", None), "a\\nb c");
        assert_eq!(truncate("abcdef", None), "abcdef");
    }

    #[test]
    fn a_table_fits_its_width_keeping_whole_columns_whole() {
        let mut grid = Grid::new(Some(vec!["id".into(), "name".into(), "notes".into()])).whole(0);
        let id = "0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b";
        grid.row(vec![id.into(), "Alpha".into(), "x".repeat(200)]);
        let text = grid.render(Some(80));
        for line in text.lines() {
            assert!(line.chars().count() <= 80, "{line}");
        }
        assert!(text.contains(id) && text.contains("Alpha") && text.contains('…'), "{text}");
        assert_eq!(text.lines().count(), 5, "one line per row, never wrapped:\n{text}");
    }
}
