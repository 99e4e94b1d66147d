//! THE calendar-part rule: which MIME parts of a mail hold calendar data. Only
//! [`crate::calendar`] applies it, once per delivery; every stage reads what it chose.

use mail_parser::{MessagePart, MimeHeaders, PartType};

/// Whether a MIME part holds calendar data: a leaf part that is `text/calendar`,
/// `application/ics`, or a file ending in `.ics`.
pub fn is_calendar_part(part: &MessagePart<'_>) -> bool {
    !matches!(part.body, PartType::Multipart(_) | PartType::Message(_)) && calendar_by_headers(part)
}

/// `text/calendar`, `application/ics`, or a file name ending in `.ics`.
pub fn calendar_by_headers(part: &MessagePart<'_>) -> bool {
    let by_type = part.content_type().is_some_and(|ct| {
        let sub = ct.subtype().unwrap_or("");
        (ct.ctype().eq_ignore_ascii_case("text") && sub.eq_ignore_ascii_case("calendar"))
            || (ct.ctype().eq_ignore_ascii_case("application") && sub.eq_ignore_ascii_case("ics"))
    });
    by_type
        || part.attachment_name().is_some_and(|name| {
            // `get`, not indexing: the last four bytes may split a UTF-8 character.
            name.len() >= 4
                && name
                    .get(name.len() - 4..)
                    .is_some_and(|ext| ext.eq_ignore_ascii_case(".ics"))
        })
}

/// Multipart nesting depth of every part, walking the tree from the root without recursion.
pub fn part_depths(parts: &[MessagePart<'_>]) -> Vec<usize> {
    let mut depth = vec![usize::MAX; parts.len()];
    let mut stack = vec![(0usize, 0usize)];
    while let Some((id, d)) = stack.pop() {
        if id >= parts.len() || depth[id] != usize::MAX {
            continue;
        }
        depth[id] = d;
        if let PartType::Multipart(children) = &parts[id].body {
            stack.extend(children.iter().map(|&c| (c as usize, d + 1)));
        }
    }
    depth
}
