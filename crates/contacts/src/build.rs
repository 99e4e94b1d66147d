use crate::{Card, CardError};
use calcard::vcard::{VCard, VCardEntry, VCardProperty, VCardValue, VCardVersion};
use uuid::Uuid;

/// The namespace of the name-based UUIDs below (RFC 9562 section 5.5), fixed so that one
/// card text always yields the same UID.
const NAMESPACE: Uuid = Uuid::from_u128(0x146a229b_338c_4091_9381_41d3442debaa);

/// A new, random UID for a card imipd writes.
pub fn new_uid() -> String {
    format!("urn:uuid:{}", Uuid::new_v4())
}

/// A UID derived from a card's text, for a card that came without one: importing the
/// same file twice gives the same UID, so the second import changes nothing.
pub(crate) fn uid_for_text(text: &str) -> String {
    format!("urn:uuid:{}", Uuid::new_v5(&NAMESPACE, text.as_bytes()))
}

impl Card {
    /// The card `imipd contacts add` writes: vCard 3.0 (the version every CardDAV client
    /// reads, RFC 6352 section 5.1.1) with the UID, FN (the name, or else the address),
    /// an empty N (required in 3.0) and one EMAIL.
    pub fn simple(uid: &str, name: Option<&str>, address: &str) -> Result<Card, CardError> {
        let address = address.trim();
        if address.is_empty() {
            return Err(CardError::NoEmail);
        }
        let name = name.map(str::trim).filter(|n| !n.is_empty());
        let text = |s: &str| VCardValue::Text(s.to_string());
        let vcard = VCard {
            entries: vec![
                VCardEntry::new(VCardProperty::Uid).with_value(text(uid)),
                VCardEntry::new(VCardProperty::Fn).with_value(text(name.unwrap_or(address))),
                VCardEntry::new(VCardProperty::N).with_values(vec![text(""); 5]),
                VCardEntry::new(VCardProperty::Email).with_value(text(address)),
            ],
        };
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = vcard.write_to(&mut out, VCardVersion::V3_0);
        Card::parse(&out)
    }
}
