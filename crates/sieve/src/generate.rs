//! The script section generated from preferences, and splicing it with the user's own.
//!
//! A full script is: the user's leading `require`s (and comments), then the generated
//! section (which starts with its own `require`), then the rest of the user's script. So
//! every `require` still comes before the first command, as RFC 5228 wants, and the user's
//! section comes back out unchanged: it is everything outside the markers.

use crate::lexer::{Kind, tokenize};
use crate::prefs::{AddInvitations, Prefs};

pub const BEGIN_MARKER: &str = "# BEGIN imipd generated section — edit with `imipd prefs set`";
pub const END_MARKER: &str = "# END imipd generated section";

/// A Sieve quoted string. Preference values never hold `\` or `${` (see [`Prefs::set`]).
fn quoted(value: &str) -> String {
    format!("\"{}\"", value.replace('"', "\\\""))
}

pub fn generate_section(prefs: &Prefs) -> String {
    let mut s = String::new();
    s.push_str(BEGIN_MARKER);
    s.push('\n');
    s.push_str(
        "require [\"processcalendar\", \"variables\", \"relational\", \
         \"comparator-i;ascii-numeric\", \"spamtest\", \"environment\", \"extlists\", \
         \"fileinto\", \"mailbox\"];\n",
    );
    s.push_str("# Calendar mail that is not spam: X-ME-Cal-Method is added by detection.\n");
    s.push_str("if allof (exists \"X-ME-Cal-Method\",\n");
    s.push_str("          not spamtest :value \"ge\" :comparator \"i;ascii-numeric\" \"10\",\n");
    s.push_str("          not header :is \"X-Spam-Flag\" \"YES\") {\n");

    let cancelled = if prefs.delete_cancelled {
        " :deletecancelled"
    } else {
        ""
    };
    let vars = " :outcome \"imipd_outcome\" :reason \"imipd_reason\"";
    let new_event = match &prefs.calendar {
        Some(id) => format!(
            "processcalendar :calendarid {}{cancelled}{vars};",
            quoted(id)
        ),
        None => format!("processcalendar{cancelled}{vars};"),
    };
    let adds = prefs.add_invitations != AddInvitations::Never;
    if prefs.apply_updates || adds {
        s.push_str("    # Only when a trusted server says the sender passed DMARC.\n");
        s.push_str("    if environment :is \"vnd.imipd.sender-authenticated\" \"yes\" {\n");
        s.push_str("        if exists \"X-ME-Cal-Exists\" {\n");
        if prefs.apply_updates {
            s.push_str(&format!(
                "            processcalendar :updatesonly{cancelled}{vars};\n"
            ));
        } else {
            s.push_str(
                "            # apply_updates is off: events already there are left alone.\n",
            );
        }
        match prefs.add_invitations {
            AddInvitations::Contacts => {
                s.push_str("        } elsif address :all :list \"From\" \":addrbook:Default\" {\n");
                s.push_str(&format!("            {new_event}\n"));
            }
            AddInvitations::Everyone => {
                s.push_str("        } else {\n");
                s.push_str(&format!("            {new_event}\n"));
            }
            AddInvitations::Never => {}
        }
        s.push_str("        }\n");
        s.push_str("    }\n");
    }
    if let Some(folder) = &prefs.file_into {
        s.push_str(&format!("    fileinto :create {};\n", quoted(folder)));
    }
    s.push_str("}\n");
    s.push_str(END_MARKER);
    s.push('\n');
    s
}

/// Where the user's leading `require`s (and comments around them) end.
fn preamble_end(user: &str) -> usize {
    let Ok(tokens) = tokenize(user) else {
        return 0;
    };
    let mut end = 0;
    let mut in_require = false;
    for token in &tokens {
        match &token.kind {
            Kind::Identifier(name) if !in_require && name == "require" => in_require = true,
            Kind::Semicolon if in_require => {
                in_require = false;
                end = token.end;
            }
            _ if in_require => {}
            _ => break,
        }
    }
    if end == 0 {
        return 0;
    }
    // Keep the rest of the last require's line (a comment, the newline) with it.
    match user[end..].find('\n') {
        Some(nl) => {
            let tail = user[end..end + nl].trim();
            if tail.is_empty() || tail.starts_with('#') {
                end + nl + 1
            } else {
                end
            }
        }
        None => end,
    }
}

pub fn splice(generated: &str, user_section: &str) -> String {
    let cut = preamble_end(user_section);
    let (preamble, rest) = user_section.split_at(cut);
    let mut full = String::with_capacity(generated.len() + user_section.len() + 2);
    full.push_str(preamble);
    if !preamble.is_empty() && !preamble.ends_with('\n') {
        full.push('\n');
    }
    full.push_str(generated);
    if !generated.ends_with('\n') {
        full.push('\n');
    }
    full.push_str(rest);
    full
}

pub fn user_section(full: &str) -> String {
    let Some(begin) = full.find(BEGIN_MARKER) else {
        return full.to_string();
    };
    let Some(end_rel) = full[begin..].find(END_MARKER) else {
        return full.to_string();
    };
    let mut end = begin + end_rel + END_MARKER.len();
    if full[end..].starts_with("\r\n") {
        end += 2;
    } else if full[end..].starts_with('\n') {
        end += 1;
    }
    format!("{}{}", &full[..begin], &full[end..])
}
