//! addressbook-query filters (RFC 6352 section 10.5) against a parsed vCard.

use super::collation;
use crate::query::{CardFilter, CardPropFilter, ParamFilter, Test, TextMatch};
use calcard::vcard::{VCard, VCardEntry, VCardParameterName, VCardValue};

/// Does the card match? An empty filter matches every card.
pub fn matches_card(filter: &CardFilter, card: &VCard) -> bool {
    let mut results = filter.props.iter().map(|pf| prop_matches(pf, card));
    match filter.test {
        _ if filter.props.is_empty() => true,
        Test::AnyOf => results.any(|m| m),
        Test::AllOf => results.all(|m| m),
    }
}

fn prop_matches(pf: &CardPropFilter, card: &VCard) -> bool {
    let mut entries = card
        .entries
        .iter()
        .filter(|e| e.name.as_str().eq_ignore_ascii_case(&pf.name))
        .peekable();
    if pf.is_not_defined {
        return entries.peek().is_none();
    }
    // A prop-filter with no tests matches when the property exists.
    if pf.text_matches.is_empty() && pf.params.is_empty() {
        return entries.peek().is_some();
    }
    entries.any(|entry| {
        let text = entry_text(entry);
        let mut tests = pf
            .text_matches
            .iter()
            .map(|tm| text_matches(tm, &text))
            .chain(pf.params.iter().map(|p| param_matches(p, entry)));
        match pf.test {
            Test::AnyOf => tests.any(|m| m),
            Test::AllOf => tests.all(|m| m),
        }
    })
}

fn text_matches(tm: &TextMatch, text: &str) -> bool {
    collation::text_matches(tm, text)
}

/// The property value as text; structured values (N, ADR) are joined with `;` as
/// they are written.
fn entry_text(entry: &VCardEntry) -> String {
    let mut out = String::new();
    for (i, v) in entry.values.iter().enumerate() {
        if i > 0 {
            out.push(';');
        }
        match v {
            VCardValue::Component(parts) => out.push_str(&parts.join(",")),
            VCardValue::Integer(n) => out.push_str(&n.to_string()),
            VCardValue::Float(f) => out.push_str(&f.to_string()),
            VCardValue::Boolean(b) => out.push_str(if *b { "TRUE" } else { "FALSE" }),
            other => out.push_str(other.as_text().unwrap_or("")),
        }
    }
    out
}

fn param_matches(pf: &ParamFilter, entry: &VCardEntry) -> bool {
    let wanted = VCardParameterName::try_parse(pf.name.as_bytes());
    super::param_filter(
        pf,
        &entry.params,
        |p| match (&wanted, &p.name) {
            (Some(w), n) if !matches!(w, VCardParameterName::Other(_)) => w == n,
            (_, VCardParameterName::Other(n)) => n.eq_ignore_ascii_case(&pf.name),
            _ => false,
        },
        |p| Some(p.value.clone().into_text().into_owned()),
    )
}
