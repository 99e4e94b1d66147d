//! The arguments of a command, as far as the rewritten commands need them.

use crate::compile::CompileError;
use crate::lexer::{Kind, Token, error_at};

#[derive(Debug)]
pub(super) enum Arg<'a> {
    Tag(&'a Token, &'a str),
    Strings(Vec<&'a Token>),
    Other(&'a Token),
}

/// The arguments of a command from `i` up to its `;`; returns them and the index after it.
pub(super) fn arguments<'a>(
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

pub(super) fn value(token: &Token) -> &str {
    match &token.kind {
        Kind::Str(v) => v,
        _ => "",
    }
}

/// The next argument after a tag, which must be a single string.
pub(super) fn tag_string<'a>(
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
