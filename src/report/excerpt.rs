//! Capped transcript excerpts: the head and the tail are kept, since a session's failure is
//! usually near its end and its setup (greeting, TLS) near its start.

use crate::exec::transcript::Line;

/// Lines kept in JUnit `system-out` (CI viewers choke on huge outputs).
pub const JUNIT_MAX_LINES: usize = 400;
/// Lines kept in the HTML report (the evidence files hold the full transcript).
pub const HTML_MAX_LINES: usize = 5000;

#[derive(Debug, PartialEq, Eq)]
pub enum Item<'a> {
    /// A kept line and its index in the full transcript.
    Line(usize, &'a Line),
    /// This many lines were left out here.
    Cut(usize),
}

/// At most `max` lines of `lines` (half from the start, half from the end), with a `Cut` marker.
pub fn excerpt(lines: &[Line], max: usize) -> Vec<Item<'_>> {
    if lines.len() <= max {
        return lines.iter().enumerate().map(|(i, l)| Item::Line(i, l)).collect();
    }
    let head = max / 2;
    let tail = max - head;
    let cut = lines.len() - head - tail;
    let mut items: Vec<Item<'_>> = lines[..head].iter().enumerate().map(|(i, l)| Item::Line(i, l)).collect();
    items.push(Item::Cut(cut));
    items.extend(lines[head + cut..].iter().enumerate().map(|(i, l)| Item::Line(head + cut + i, l)));
    items
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exec::transcript::Direction;

    fn lines(n: usize) -> Vec<Line> {
        (0..n)
            .map(|i| Line { at: chrono::Utc::now(), dir: Direction::Received, conn: "smtp#1".into(), text: format!("l{i}") })
            .collect()
    }

    #[test]
    fn short_transcripts_are_whole() {
        let l = lines(3);
        assert_eq!(excerpt(&l, 3).len(), 3);
    }

    #[test]
    fn long_transcripts_keep_head_and_tail() {
        let l = lines(10);
        let e = excerpt(&l, 4);
        assert_eq!(e.len(), 5);
        assert_eq!(e[0], Item::Line(0, &l[0]));
        assert_eq!(e[1], Item::Line(1, &l[1]));
        assert_eq!(e[2], Item::Cut(6));
        assert_eq!(e[3], Item::Line(8, &l[8]));
        assert_eq!(e[4], Item::Line(9, &l[9]));
    }
}
