use crate::CardError;
use calcard::vcard::{VCard, VCardEntry, VCardProperty};
use calcard::{Entry, Parser};

/// Largest vCard accepted, in bytes: room for a photo, and a bound on the work one
/// hostile card costs.
pub const MAX_CARD_BYTES: usize = 1024 * 1024;
/// Most EMAIL properties in one card: each is a row of the known-senders index.
pub const MAX_EMAILS: usize = 100;

/// One vCard as an address book holds it. Only [`Card::parse`] makes one, so its UID and
/// EMAIL values are always those of its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Card {
    text: String,
    uid: String,
    formatted_name: String,
    emails: Vec<String>,
}

impl Card {
    /// Reads one vCard 3.0 or 4.0 (RFC 6352 section 5.1: one vCard per resource, with a
    /// UID), or says what is wrong with it.
    pub fn parse(text: &str) -> Result<Card, CardError> {
        let vcard = read(text)?;
        let uid = text_of(vcard.property(&VCardProperty::Uid)).ok_or(CardError::NoUid)?;
        let formatted_name =
            text_of(vcard.property(&VCardProperty::Fn)).ok_or(CardError::NoFormattedName)?;
        let emails: Vec<String> = vcard
            .properties(&VCardProperty::Email)
            .filter_map(|e| text_of(Some(e)))
            .collect();
        if emails.len() > MAX_EMAILS {
            return Err(CardError::TooManyEmails {
                count: emails.len(),
                limit: MAX_EMAILS,
            });
        }
        Ok(Card {
            text: text.to_string(),
            uid,
            formatted_name,
            emails,
        })
    }

    /// The card as it was written.
    pub fn text(&self) -> &str {
        &self.text
    }

    pub fn uid(&self) -> &str {
        &self.uid
    }

    /// The FN property: the name a person is shown by.
    pub fn formatted_name(&self) -> &str {
        &self.formatted_name
    }

    /// Every EMAIL value as written (trimmed), in the card's order.
    pub fn emails(&self) -> &[String] {
        &self.emails
    }
}

/// The first value of a property as trimmed text, when it has a non-empty one.
fn text_of(entry: Option<&VCardEntry>) -> Option<String> {
    let value = entry?.values.first()?.as_text()?.trim();
    (!value.is_empty()).then(|| value.to_string())
}

/// Parses exactly one vCard with an accepted VERSION; the UID is not required here (an
/// import assigns one to a card without).
pub(crate) fn read(text: &str) -> Result<VCard, CardError> {
    if text.len() > MAX_CARD_BYTES {
        return Err(CardError::TooLarge {
            size: text.len(),
            limit: MAX_CARD_BYTES,
        });
    }
    check_shape(text)?;
    let vcard = match Parser::new(text).strict().entry() {
        Entry::VCard(vcard) => vcard,
        Entry::InvalidLine(line) => return Err(CardError::InvalidLine(line)),
        Entry::UnterminatedComponent(_) => return Err(CardError::Unterminated),
        other => return Err(CardError::NotAVCard(format!("{other:?}"))),
    };
    match text_of(vcard.property(&VCardProperty::Version)) {
        None => Err(CardError::NoVersion),
        Some(v) if v == "3.0" || v == "4.0" => Ok(vcard),
        Some(v) => Err(CardError::UnsupportedVersion(v)),
    }
}

/// The line structure calcard does not report on its own terms: the text must be one
/// BEGIN:VCARD … END:VCARD with nothing nested inside and nothing after it.
fn check_shape(text: &str) -> Result<(), CardError> {
    let mut lines = text
        .trim_start_matches('\u{feff}')
        .lines()
        .filter(|l| !l.trim().is_empty());
    match lines.next() {
        Some(first) if is_line(first, "BEGIN:VCARD") => {}
        Some(first) => {
            return Err(CardError::NotAVCard(format!(
                "it begins with {:?}",
                first.chars().take(60).collect::<String>()
            )));
        }
        None => return Err(CardError::NotAVCard("it is empty".into())),
    }
    let mut lines = lines.skip_while(|l| !is_line(l, "END:VCARD") && !starts(l, "BEGIN:"));
    match lines.next() {
        None => return Err(CardError::Unterminated),
        Some(l) if starts(l, "BEGIN:") => return Err(CardError::Nested),
        Some(_) => {}
    }
    match lines.next() {
        None => Ok(()),
        Some(l) if is_line(l, "BEGIN:VCARD") => Err(CardError::SeveralCards),
        Some(l) => Err(CardError::TrailingText(l.chars().take(60).collect())),
    }
}

pub(crate) fn is_line(line: &str, want: &str) -> bool {
    line.trim_end().eq_ignore_ascii_case(want)
}

fn starts(line: &str, prefix: &str) -> bool {
    line.get(..prefix.len())
        .is_some_and(|p| p.eq_ignore_ascii_case(prefix))
}
