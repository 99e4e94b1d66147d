//! The source pre-pass: checks the extensions a script requires and rewrites the commands
//! sieve-rs cannot run the way imipd needs (`processcalendar`, and `notify` with a
//! constant method) into constructs whose events the runner intercepts. It keeps a map
//! from every byte of the rewritten text back to the user's source, so compile errors point
//! at what the user wrote.

use crate::compile::CompileError;
use crate::lexer::{Kind, Token, error_at, tokenize};
use std::collections::HashSet;

/// First mailbox name of the `mailboxexists` test a rewritten command becomes; the rest
/// of the names are the command's argument values, in the order the [`Call`] describes.
pub(crate) const MARKER: &str = "imipd:call:";
/// External function ids of the zero-argument functions that read the last
/// `processcalendar` decision back into the script.
pub(crate) const FN_OUTCOME: u32 = 0;
pub(crate) const FN_REASON: u32 = 1;

/// What a rewritten command asks for; its string values arrive at run time, after
/// variable expansion, in the intercepted event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Call {
    /// Values: the `:addresses` items, then the `:organizers` list name, then the
    /// `:calendarid`, each only when given.
    ProcessCalendar {
        allow_public: bool,
        updates_only: bool,
        delete_cancelled: bool,
        addresses: Option<usize>,
        organizers: bool,
        calendar_id: bool,
    },
    /// Values: the notify method, then its `:options`; the method is classified at run
    /// time, after variable expansion.
    Notify,
}

/// Extensions a user script may require. Others (vacation, reject, editheader, include …)
/// would need actions imipd does not carry out, so they are refused at compile time.
pub(crate) const SUPPORTED: &[&str] = &[
    "fileinto",
    "envelope",
    "encoded-character",
    "comparator-i;octet",
    "comparator-i;ascii-casemap",
    "comparator-i;ascii-numeric",
    "body",
    "copy",
    "relational",
    "date",
    "index",
    "variables",
    "imap4flags",
    "mailbox",
    "spamtest",
    "spamtestplus",
    "enotify",
    "extlists",
    "environment",
    "subaddress",
    "ihave",
    "processcalendar",
];

pub(crate) struct Prepared {
    pub text: String,
    pub calls: Vec<Call>,
    segments: Vec<Segment>,
    commands: Vec<(String, usize)>,
}

#[derive(Debug, Clone, Copy)]
struct Segment {
    gen_start: usize,
    orig_start: usize,
    verbatim: bool,
}

impl Prepared {
    /// The offset in the user's source of a byte offset in the rewritten text.
    pub(crate) fn original_offset(&self, generated: usize) -> usize {
        let idx = self
            .segments
            .partition_point(|s| s.gen_start <= generated)
            .saturating_sub(1);
        match self.segments.get(idx) {
            Some(s) if s.verbatim => s.orig_start + (generated - s.gen_start),
            Some(s) => s.orig_start,
            None => generated,
        }
    }

    /// Where the first command called `name` starts in the user's source.
    pub(crate) fn command_offset(&self, name: &str) -> Option<usize> {
        let name = name.to_ascii_lowercase();
        self.commands
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, offset)| *offset)
    }
}

/// Replaces `start..end` of the source with `pieces`: new text, or copies of source
/// tokens that keep their own place in the error map.
struct Rewrite {
    start: usize,
    end: usize,
    pieces: Vec<Piece>,
}

enum Piece {
    New(String),
    Copy(usize, usize),
}

impl Rewrite {
    fn new(start: usize, end: usize, text: impl Into<String>) -> Self {
        Rewrite {
            start,
            end,
            pieces: vec![Piece::New(text.into())],
        }
    }
}

pub(crate) fn prepare(source: &str) -> Result<Prepared, CompileError> {
    let tokens = tokenize(source)?;
    let mut required: HashSet<String> = HashSet::new();
    let mut rewrites = Vec::new();
    let mut calls = Vec::new();
    let mut commands = Vec::new();
    let mut variables = Vec::new();
    let mut at_command = true;
    let mut i = 0;
    while let Some(token) = tokens.get(i) {
        match &token.kind {
            Kind::Identifier(name) if at_command => {
                commands.push((name.clone(), token.start));
                at_command = false;
                match name.as_str() {
                    "require" => {
                        i = require(source, &tokens, i + 1, &mut required, &mut rewrites)?;
                        at_command = true;
                        continue;
                    }
                    "processcalendar" => {
                        let (end, rewrite, call) = processcalendar(
                            source,
                            &tokens,
                            i,
                            &required,
                            calls.len(),
                            &mut variables,
                        )?;
                        rewrites.push(rewrite);
                        calls.push(call);
                        i = end;
                        at_command = true;
                        continue;
                    }
                    "set" | "addflag" | "setflag" | "removeflag" => {
                        variables.extend(variable_name(&tokens[i + 1..], name == "set"));
                    }
                    "notify" => {
                        if let Some((end, rewrite, call)) =
                            notify(source, &tokens, i, &required, calls.len())?
                        {
                            rewrites.push(rewrite);
                            calls.push(call);
                            i = end;
                            at_command = true;
                            continue;
                        }
                    }
                    _ => {}
                }
            }
            Kind::Semicolon | Kind::Open(b'{') | Kind::Close(b'}') => at_command = true,
            _ => {}
        }
        i += 1;
    }

    if let Some(declarations) = declarations(&variables) {
        rewrites.insert(0, Rewrite::new(0, 0, declarations));
    }

    let mut text = String::with_capacity(source.len() + rewrites.len() * 120);
    let mut segments = Vec::new();
    let mut copied = 0;
    for rewrite in rewrites {
        segments.push(Segment {
            gen_start: text.len(),
            orig_start: copied,
            verbatim: true,
        });
        text.push_str(&source[copied..rewrite.start]);
        for piece in rewrite.pieces {
            match piece {
                Piece::New(new) => {
                    segments.push(Segment {
                        gen_start: text.len(),
                        orig_start: rewrite.start,
                        verbatim: false,
                    });
                    text.push_str(&new);
                }
                Piece::Copy(start, end) => {
                    segments.push(Segment {
                        gen_start: text.len(),
                        orig_start: start,
                        verbatim: true,
                    });
                    text.push_str(&source[start..end]);
                }
            }
        }
        copied = rewrite.end;
    }
    segments.push(Segment {
        gen_start: text.len(),
        orig_start: copied,
        verbatim: true,
    });
    text.push_str(&source[copied..]);
    Ok(Prepared {
        text,
        calls,
        segments,
        commands,
    })
}

/// The variable a `set` (or a flag action's two-argument form) writes, when constant.
fn variable_name(args: &[Token], is_set: bool) -> Option<String> {
    let mut strings = Vec::new();
    let mut depth = 0;
    for token in args {
        match &token.kind {
            Kind::Semicolon | Kind::Open(b'{') | Kind::Close(b'}') => break,
            Kind::Open(_) => depth += 1,
            Kind::Close(_) => depth -= 1,
            Kind::Str(value) if depth == 0 => strings.push(value.as_str()),
            Kind::Identifier(_) | Kind::Number => return None,
            _ => {}
        }
    }
    let name = match strings.as_slice() {
        [name, _] => *name,
        [name, ..] if is_set => *name,
        _ => return None,
    };
    let plain = !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    plain.then(|| name.to_ascii_lowercase())
}

/// sieve-rs scopes a variable first set inside a block to that block and clears it at
/// the block's end; RFC 5229 variables live for the whole script. Declaring every
/// variable at the top level first gives them script scope.
fn declarations(variables: &[String]) -> Option<String> {
    let mut seen = HashSet::new();
    let mut text = String::from("require \"vnd.stalwart.expressions\";");
    for name in variables {
        if seen.insert(name) {
            text.push_str(&format!(" let \"{name}\" \"''\";"));
        }
    }
    (!seen.is_empty()).then(|| {
        text.push(' ');
        text
    })
}

/// Records the required extensions, refuses unsupported ones and swaps
/// "processcalendar", unknown to sieve-rs, for "mailbox", which its rewrite needs.
fn require(
    source: &str,
    tokens: &[Token],
    mut i: usize,
    required: &mut HashSet<String>,
    rewrites: &mut Vec<Rewrite>,
) -> Result<usize, CompileError> {
    while let Some(token) = tokens.get(i) {
        match &token.kind {
            Kind::Semicolon => return Ok(i + 1),
            Kind::Str(value) => {
                let name = value.to_ascii_lowercase();
                if !SUPPORTED.contains(&name.as_str()) {
                    return Err(error_at(
                        source,
                        token.start,
                        format!(
                            "extension {value:?} is not supported; supported: {}",
                            SUPPORTED.join(", ")
                        ),
                    ));
                }
                if name == "processcalendar" {
                    rewrites.push(Rewrite::new(token.start, token.end, "\"mailbox\""));
                }
                required.insert(name);
            }
            Kind::Open(b'[') | Kind::Close(b']') | Kind::Comma => {}
            // Anything else is a syntax error sieve-rs reports with its own message.
            _ => return Ok(i),
        }
        i += 1;
    }
    Ok(i)
}

#[derive(Debug)]
enum Arg<'a> {
    Tag(&'a Token, &'a str),
    Strings(Vec<&'a Token>),
    Other(&'a Token),
}

/// The arguments of a command from `i` up to its `;`; returns them and the index after it.
fn arguments<'a>(
    source: &str,
    tokens: &'a [Token],
    command: &Token,
    mut i: usize,
) -> Result<(Vec<Arg<'a>>, usize, usize), CompileError> {
    let mut args = Vec::new();
    loop {
        let Some(token) = tokens.get(i) else {
            return Err(error_at(source, command.start, "command has no ending ';'"));
        };
        i += 1;
        match &token.kind {
            Kind::Semicolon => return Ok((args, i, token.end)),
            Kind::Open(b'{') | Kind::Close(b'}') => {
                return Err(error_at(source, token.start, "expected ';' before this"));
            }
            Kind::Tag(name) => args.push(Arg::Tag(token, name)),
            Kind::Str(_) => args.push(Arg::Strings(vec![token])),
            Kind::Open(b'[') => {
                let mut items = Vec::new();
                loop {
                    match tokens.get(i).map(|t| (t, &t.kind)) {
                        Some((t, Kind::Str(_))) => items.push(t),
                        Some((t, _)) => {
                            return Err(error_at(source, t.start, "expected a string"));
                        }
                        None => {
                            return Err(error_at(source, token.start, "string list has no ']'"));
                        }
                    }
                    i += 1;
                    match tokens.get(i).map(|t| (t, &t.kind)) {
                        Some((_, Kind::Comma)) => i += 1,
                        Some((_, Kind::Close(b']'))) => break,
                        Some((t, _)) => {
                            return Err(error_at(source, t.start, "expected ',' or ']'"));
                        }
                        None => {
                            return Err(error_at(source, token.start, "string list has no ']'"));
                        }
                    }
                }
                i += 1;
                args.push(Arg::Strings(items));
            }
            _ => args.push(Arg::Other(token)),
        }
    }
}

fn value(token: &Token) -> &str {
    match &token.kind {
        Kind::Str(v) => v,
        _ => "",
    }
}

/// The next argument after a tag, which must be a single string.
fn tag_string<'a>(
    source: &str,
    args: &mut std::iter::Peekable<std::vec::IntoIter<Arg<'a>>>,
    tag: &Token,
    name: &str,
) -> Result<&'a Token, CompileError> {
    match args.next() {
        Some(Arg::Strings(items)) if items.len() == 1 => Ok(items[0]),
        _ => Err(error_at(
            source,
            tag.start,
            format!(":{name} needs one string after it"),
        )),
    }
}

fn processcalendar(
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

fn notify(
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
