//! The ORGANIZER address of a message's calendar part, for `:organizers`.

use mail_parser::{Message, MimeHeaders};

/// Bytes of a calendar part read when looking for its organizer.
const MAX_SCAN: usize = 512 * 1024;

pub(crate) fn organizer(message: &Message<'_>) -> Option<String> {
    message
        .parts
        .iter()
        .filter(|part| {
            let calendar_type = part.content_type().is_some_and(|ct| {
                let sub = ct.subtype().unwrap_or_default();
                (ct.ctype().eq_ignore_ascii_case("text") && sub.eq_ignore_ascii_case("calendar"))
                    || (ct.ctype().eq_ignore_ascii_case("application")
                        && sub.eq_ignore_ascii_case("ics"))
            });
            calendar_type
                || part
                    .attachment_name()
                    .is_some_and(|n| n.to_ascii_lowercase().ends_with(".ics"))
        })
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
