//! The source pre-pass: checks the extensions a script requires and rewrites the commands
//! sieve-rs cannot run the way imipd needs (`processcalendar` and `notify`) into
//! constructs whose events the runner intercepts. It keeps a map
//! from every byte of the rewritten text back to the user's source, so compile errors point
//! at what the user wrote.

mod args;
mod commands;

use crate::compile::CompileError;
use crate::lexer::{Kind, Token, error_at, tokenize};
use commands::{notify, processcalendar};
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
pub(super) struct Rewrite {
    pub(super) start: usize,
    end: usize,
    pieces: Vec<Piece>,
}

pub(super) enum Piece {
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
