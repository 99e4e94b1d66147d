//! `processcalendar` and `notify`, rewritten into a `mailboxexists` probe.

use super::args::{Arg, arguments, tag_string, value};
use super::{Call, MARKER, Piece, Rewrite};
use crate::compile::CompileError;
use crate::lexer::{Token, error_at};
use std::collections::HashSet;

pub(super) fn processcalendar(
    source: &str,
    tokens: &[Token],
    at: usize,
    required: &HashSet<String>,
    index: usize,
    variables: &mut Vec<String>,
) -> Result<(usize, Rewrite, Call), CompileError> {
    let command = &tokens[at];
    if !required.contains("processcalendar") {
        return Err(error_at(
            source,
            command.start,
            "processcalendar used without require \"processcalendar\"",
        ));
    }
    let (args, next, end) = arguments(source, tokens, command, at + 1)?;
    let mut seen = HashSet::new();
    let (mut allow_public, mut updates_only, mut delete_cancelled) = (false, false, false);
    let mut addresses: Option<Vec<&Token>> = None;
    let mut organizers = None;
    let mut calendar_id = None;
    let mut outcome = None;
    let mut reason = None;
    let mut args = args.into_iter().peekable();
    while let Some(arg) = args.next() {
        let (tag, name) = match arg {
            Arg::Tag(tag, name) => (tag, name),
            Arg::Strings(items) => {
                let at = items.first().map_or(command.start, |t| t.start);
                return Err(error_at(
                    source,
                    at,
                    "processcalendar takes only tagged arguments",
                ));
            }
            Arg::Other(token) => {
                return Err(error_at(
                    source,
                    token.start,
                    "unexpected argument to processcalendar",
                ));
            }
        };
        if !seen.insert(name.to_string()) {
            return Err(error_at(source, tag.start, format!(":{name} given twice")));
        }
        match name {
            "allowpublic" => allow_public = true,
            "updatesonly" => updates_only = true,
            "deletecancelled" => delete_cancelled = true,
            "addresses" => match args.next() {
                Some(Arg::Strings(items)) => addresses = Some(items),
                _ => {
                    return Err(error_at(
                        source,
                        tag.start,
                        ":addresses needs a string list after it",
                    ));
                }
            },
            "organizers" => {
                let list = tag_string(source, &mut args, tag, name)?;
                let name = value(list);
                if !name.contains("${") && crate::run::contacts_list(name).is_none() {
                    return Err(error_at(
                        source,
                        list.start,
                        format!(
                            "unknown list {name:?}; the list imipd has is \":addrbook:Default\""
                        ),
                    ));
                }
                organizers = Some(list);
            }
            "calendarid" => calendar_id = Some(tag_string(source, &mut args, tag, name)?),
            "outcome" | "reason" => {
                let var = tag_string(source, &mut args, tag, name)?;
                if !required.contains("variables") {
                    return Err(error_at(
                        source,
                        tag.start,
                        format!(":{name} needs require \"variables\""),
                    ));
                }
                let var_name = value(var);
                if var_name.is_empty()
                    || !var_name
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
                {
                    return Err(error_at(
                        source,
                        var.start,
                        format!("{var_name:?} is not a variable name"),
                    ));
                }
                variables.push(var_name.to_string());
                if name == "outcome" {
                    outcome = Some(var_name.to_string());
                } else {
                    reason = Some(var_name.to_string());
                }
            }
            _ => {
                return Err(error_at(
                    source,
                    tag.start,
                    format!(
                        "processcalendar has no :{name}; it takes :allowpublic, :addresses, \
                         :organizers, :updatesonly, :calendarid, :deletecancelled, :outcome, :reason"
                    ),
                ));
            }
        }
    }
    if updates_only && let Some(id) = calendar_id {
        return Err(error_at(
            source,
            id.start,
            ":updatesonly and :calendarid cannot be used together",
        ));
    }
    let mut values: Vec<&Token> = Vec::new();
    if let Some(items) = &addresses {
        values.extend(items.iter().copied());
    }
    values.extend(organizers);
    values.extend(calendar_id);
    let mut pieces = probe(index, &values);
    for (var, function) in [(outcome, "imipd.outcome"), (reason, "imipd.reason")] {
        if let Some(var) = var {
            pieces.push(Piece::New(format!(" let \"{var}\" \"{function}()\";")));
        }
    }
    let call = Call::ProcessCalendar {
        allow_public,
        updates_only,
        delete_cancelled,
        addresses: addresses.map(|a| a.len()),
        organizers: organizers.is_some(),
        calendar_id: calendar_id.is_some(),
    };
    Ok((
        next,
        Rewrite {
            start: command.start,
            end,
            pieces,
        },
        call,
    ))
}

/// The statement a rewritten command becomes: a `mailboxexists` test whose event carries
/// the marker and the values, expanded by sieve-rs itself.
fn probe(index: usize, values: &[&Token]) -> Vec<Piece> {
    let mut pieces = vec![Piece::New(format!(
        "require [\"mailbox\", \"vnd.stalwart.expressions\"]; \
         if mailboxexists [\"{MARKER}{index}\""
    ))];
    for v in values {
        pieces.push(Piece::New(", ".into()));
        pieces.push(Piece::Copy(v.start, v.end));
    }
    pieces.push(Piece::New("] {}".into()));
    pieces
}

pub(super) fn notify(
    source: &str,
    tokens: &[Token],
    at: usize,
    required: &HashSet<String>,
    index: usize,
) -> Result<Option<(usize, Rewrite, Call)>, CompileError> {
    let command = &tokens[at];
    let (args, next, end) = arguments(source, tokens, command, at + 1)?;
    let mut method = None;
    let mut options = Vec::new();
    let mut args = args.into_iter().peekable();
    while let Some(arg) = args.next() {
        match arg {
            Arg::Tag(tag, name) => match name {
                "method" => method = Some(tag_string(source, &mut args, tag, name)?),
                "from" | "importance" | "message" => {
                    tag_string(source, &mut args, tag, name)?;
                }
                "options" => match args.next() {
                    Some(Arg::Strings(items)) => options = items,
                    _ => {
                        return Err(error_at(
                            source,
                            tag.start,
                            ":options needs a string list after it",
                        ));
                    }
                },
                // Tags of other extensions (fcc …): leave the command to sieve-rs.
                _ => return Ok(None),
            },
            Arg::Strings(items) if items.len() == 1 && method.is_none() => {
                method = Some(items[0]);
            }
            _ => return Ok(None),
        }
    }
    let Some(method) = method else {
        return Ok(None);
    };
    if !required.contains("enotify") {
        return Err(error_at(
            source,
            command.start,
            "notify used without require \"enotify\"",
        ));
    }
    let values: Vec<&Token> = std::iter::once(method).chain(options).collect();
    Ok(Some((
        next,
        Rewrite {
            start: command.start,
            end,
            pieces: probe(index, &values),
        },
        Call::Notify,
    )))
}
