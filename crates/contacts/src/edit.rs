use crate::build::uid_for_text;
use crate::card::{is_line, read};
use crate::{Card, CardError};
use calcard::vcard::{VCardProperty, VCardVersion};

/// What is left of a card once some of its EMAILs are taken out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Remaining {
    /// No EMAIL matched; the card stays as it is.
    Unchanged,
    /// The card without them.
    Card(Card),
    /// Nothing but the card's identity (VERSION, UID, FN, N, PRODID, REV, KIND) would be
    /// left: it was there for those addresses only.
    Nothing,
}

impl Card {
    /// The card without the EMAIL values `remove` picks, and without the properties
    /// grouped with them (Apple's `item1.EMAIL` comes with an `item1.X-ABLabel`).
    pub fn without_emails(&self, remove: impl Fn(&str) -> bool) -> Result<Remaining, CardError> {
        let mut vcard = read(self.text())?;
        let removed = |e: &calcard::vcard::VCardEntry| {
            e.name == VCardProperty::Email
                && e.values
                    .first()
                    .and_then(|v| v.as_text())
                    .is_some_and(|v| remove(v.trim()))
        };
        let groups: Vec<String> = vcard
            .entries
            .iter()
            .filter(|e| removed(e))
            .filter_map(|e| e.group.clone())
            .collect();
        let before = vcard.entries.len();
        vcard.entries.retain(|e| {
            !removed(e)
                && !e
                    .group
                    .as_ref()
                    .is_some_and(|g| groups.iter().any(|r| r.eq_ignore_ascii_case(g)))
        });
        if vcard.entries.len() == before {
            return Ok(Remaining::Unchanged);
        }
        let identity_only = vcard.entries.iter().all(|e| {
            matches!(
                e.name,
                VCardProperty::Version
                    | VCardProperty::Uid
                    | VCardProperty::Fn
                    | VCardProperty::N
                    | VCardProperty::Prodid
                    | VCardProperty::Rev
                    | VCardProperty::Kind
            )
        });
        if identity_only {
            return Ok(Remaining::Nothing);
        }
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = vcard.write_to(&mut out, vcard.version().unwrap_or(VCardVersion::V4_0));
        Card::parse(&out).map(Remaining::Card)
    }

    /// Reads a card for an import. A card without a UID gets one derived from its text
    /// (inserted before END:VCARD, the rest kept as written); `true` when it did.
    pub fn parse_assigning_uid(text: &str) -> Result<(Card, bool), CardError> {
        match Card::parse(text) {
            Err(CardError::NoUid) => {}
            other => return other.map(|card| (card, false)),
        }
        let mut end = None;
        let mut at = 0;
        for line in text.split_inclusive('\n') {
            if is_line(line, "END:VCARD") {
                end = Some(at);
            }
            at += line.len();
        }
        let end = end.ok_or(CardError::Unterminated)?;
        let newline = if text.contains("\r\n") { "\r\n" } else { "\n" };
        let with_uid = format!(
            "{}UID:{}{newline}{}",
            &text[..end],
            uid_for_text(text),
            &text[end..]
        );
        Card::parse(&with_uid).map(|card| (card, true))
    }
}
