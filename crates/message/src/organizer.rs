//! The ORGANIZER address of a message's calendar part, for `:organizers`.

use crate::part::is_calendar_part;
use mail_parser::Message;

/// Bytes of a calendar part read when looking for its organizer.
const MAX_SCAN: usize = 512 * 1024;

/// The first ORGANIZER address found in the message's calendar parts.
pub fn organizer(message: &Message<'_>) -> Option<String> {
    message
        .parts
        .iter()
        .filter(|part| is_calendar_part(part))
        .find_map(|part| {
            let data = part.contents();
            let data = &data[..data.len().min(MAX_SCAN)];
            from_ics(&String::from_utf8_lossy(data))
        })
}

fn from_ics(ics: &str) -> Option<String> {
    let unfolded = ics
        .replace("\r\n ", "")
        .replace("\r\n\t", "")
        .replace("\n ", "")
        .replace("\n\t", "");
    unfolded.lines().find_map(|line| {
        let name_end = line.find([':', ';'])?;
        if !line[..name_end].trim().eq_ignore_ascii_case("ORGANIZER") {
            return None;
        }
        let value = value_of(line)?.trim();
        let address = match value.get(..7) {
            Some(scheme) if scheme.eq_ignore_ascii_case("mailto:") => &value[7..],
            _ => value,
        };
        (!address.is_empty()).then(|| address.to_string())
    })
}

/// The value of a content line: after the first ':' that is not inside a quoted
/// parameter value.
fn value_of(line: &str) -> Option<&str> {
    let mut quoted = false;
    for (i, c) in line.char_indices() {
        match c {
            '"' => quoted = !quoted,
            ':' if !quoted => return Some(&line[i + 1..]),
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::from_ics;

    #[test]
    fn organizer_with_quoted_parameter_and_folding() {
        let ics = "BEGIN:VEVENT\r\nORGANIZER;CN=\"Doe: Jane\":mai\r\n lto:jane@example.org\r\nEND:VEVENT\r\n";
        assert_eq!(from_ics(ics).as_deref(), Some("jane@example.org"));
        assert_eq!(from_ics("BEGIN:VEVENT\r\nEND:VEVENT\r\n"), None);
    }
}
