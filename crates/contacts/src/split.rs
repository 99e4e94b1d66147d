use crate::card::is_line;

/// One vCard (or one run of text between vCards) of a file holding many.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Piece<'a> {
    /// Where it begins in the file, counting lines from 1.
    pub line: usize,
    /// Its text as written, line ends included.
    pub text: &'a str,
}

/// Cuts a `.vcf` file into its vCards, by their BEGIN:VCARD and END:VCARD lines, so that
/// each keeps its text as written and a bad one does not stop the others. Text outside
/// the vCards comes as pieces of its own (they are then refused as not a vCard); blank
/// lines are skipped. A BEGIN inside a vCard (vCard 2.1's AGENT) stays in it.
pub fn split(file: &str) -> Vec<Piece<'_>> {
    let file = file.strip_prefix('\u{feff}').unwrap_or(file);
    let mut pieces = Vec::new();
    // (start offset, start line, depth) of the piece being collected
    let mut open: Option<(usize, usize, usize)> = None;
    let mut at = 0;
    for (n, line) in file.split_inclusive('\n').enumerate() {
        let begins = is_line(line, "BEGIN:VCARD");
        let ends = is_line(line, "END:VCARD");
        let blank = line.trim().is_empty();
        open = match open {
            None if blank => None,
            None => Some((at, n + 1, usize::from(begins))),
            // stray text running into a card: the stray piece ends here
            Some((start, first, 0)) if begins => {
                pieces.push(Piece {
                    line: first,
                    text: &file[start..at],
                });
                Some((at, n + 1, 1))
            }
            Some((start, first, 0)) if blank => {
                pieces.push(Piece {
                    line: first,
                    text: &file[start..at],
                });
                None
            }
            Some((start, first, depth)) if begins => Some((start, first, depth + 1)),
            Some((start, first, 1)) if ends => {
                pieces.push(Piece {
                    line: first,
                    text: &file[start..at + line.len()],
                });
                None
            }
            Some((start, first, depth)) if ends && depth > 1 => Some((start, first, depth - 1)),
            keep => keep,
        };
        at += line.len();
    }
    if let Some((start, first, _)) = open {
        pieces.push(Piece {
            line: first,
            text: &file[start..],
        });
    }
    pieces
}
