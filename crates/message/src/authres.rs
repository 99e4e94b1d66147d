//! `Authentication-Results` (RFC 8601 section 2.2), parsed by its grammar:
//!
//! ```text
//! authres-payload = [CFWS] authserv-id [ CFWS authres-version ]
//!                   ( no-result / 1*resinfo ) [CFWS] CRLF
//! resinfo         = [CFWS] ";" methodspec [ CFWS reasonspec ] [ CFWS 1*propspec ]
//! methodspec      = [CFWS] method [CFWS] "=" [CFWS] result
//! propspec        = ptype [CFWS] "." [CFWS] property [CFWS] "=" pvalue
//! ```
//!
//! Comments (nested, with quoted pairs) are white space; a quoted string is one value, so
//! `smtp.mailfrom="x;dmarc=pass"` holds no result. A payload that does not follow the
//! grammar yields nothing: a result is never guessed from a malformed header.

/// One parsed `Authentication-Results` header field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthResults {
    pub authserv_id: String,
    pub results: Vec<ResInfo>,
}

/// One `method=result` with its properties.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResInfo {
    /// Lower case, without a `/version`.
    pub method: String,
    /// Lower case.
    pub result: String,
    /// `(ptype.property, value)`, the name in lower case: `("header.from", "example.org")`.
    pub properties: Vec<(String, String)>,
}

impl ResInfo {
    pub fn property(&self, name: &str) -> Option<&str> {
        self.properties
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Semi,
    Equals,
    Dot,
    Slash,
    /// A run of other characters, or a quoted string (`quoted` tells which).
    Word {
        text: String,
        quoted: bool,
    },
}

/// Splits a payload into tokens, dropping white space and comments. `None` for an
/// unterminated quoted string or comment.
fn tokens(value: &str) -> Option<Vec<Token>> {
    let mut out = Vec::new();
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' | '\r' | '\n' => {}
            ';' => out.push(Token::Semi),
            '=' => out.push(Token::Equals),
            '.' => out.push(Token::Dot),
            '/' => out.push(Token::Slash),
            '(' => {
                let mut depth = 1usize;
                while depth > 0 {
                    match chars.next()? {
                        '\\' => {
                            chars.next()?;
                        }
                        '(' => depth += 1,
                        ')' => depth -= 1,
                        _ => {}
                    }
                }
            }
            '"' => {
                let mut text = String::new();
                loop {
                    match chars.next()? {
                        '\\' => text.push(chars.next()?),
                        '"' => break,
                        '\r' | '\n' => {}
                        c => text.push(c),
                    }
                }
                out.push(Token::Word { text, quoted: true });
            }
            c => {
                let mut text = String::from(c);
                while let Some(&next) = chars.peek() {
                    if matches!(
                        next,
                        ' ' | '\t' | '\r' | '\n' | ';' | '=' | '.' | '/' | '(' | '"'
                    ) {
                        break;
                    }
                    text.push(next);
                    chars.next();
                }
                out.push(Token::Word {
                    text,
                    quoted: false,
                });
            }
        }
    }
    Some(out)
}

/// A header field that does not follow the grammar, with its authserv-id when that much
/// could be read: a trusted server's header that cannot be read is not a pass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Malformed {
    pub authserv_id: Option<String>,
}

/// Parses the value of one `Authentication-Results` field (everything after the colon).
pub fn parse(value: &str) -> Result<AuthResults, Malformed> {
    let Some(tokens) = tokens(value) else {
        // An unterminated quoted string or comment: the id is what precedes the first ';'.
        let head = value.split(';').next().unwrap_or_default();
        let authserv_id = tokens(head).and_then(|t| authserv_id(&t));
        return Err(Malformed { authserv_id });
    };
    let mut groups = tokens.split(|t| *t == Token::Semi);
    let authserv_id = groups.next().and_then(authserv_id);
    let malformed = || Malformed {
        authserv_id: authserv_id.clone(),
    };
    let results = results(groups.collect()).ok_or_else(malformed)?;
    let authserv_id = authserv_id.clone().ok_or_else(malformed)?;
    Ok(AuthResults {
        authserv_id,
        results,
    })
}

/// `1*resinfo`, or `; none`.
fn results(rest: Vec<&[Token]>) -> Option<Vec<ResInfo>> {
    if let [
        [
            Token::Word {
                text,
                quoted: false,
            },
        ],
    ] = rest.as_slice()
        && text.eq_ignore_ascii_case("none")
    {
        return Some(Vec::new());
    }
    if rest.is_empty() {
        return None;
    }
    rest.into_iter().map(resinfo).collect()
}

/// `authserv-id [ CFWS authres-version ]`: the id is a dot-atom-ish value (a host name)
/// or a quoted string.
fn authserv_id(head: &[Token]) -> Option<String> {
    let mut id = String::new();
    let mut i = 0;
    match head.first()? {
        Token::Word { text, quoted: true } => {
            id.push_str(text);
            i = 1;
        }
        Token::Word { quoted: false, .. } => {
            // A host name arrives as words joined by dots.
            while let Some(Token::Word {
                text,
                quoted: false,
            }) = head.get(i)
            {
                id.push_str(text);
                i += 1;
                if head.get(i) == Some(&Token::Dot) {
                    id.push('.');
                    i += 1;
                } else {
                    break;
                }
            }
        }
        _ => return None,
    }
    match &head[i..] {
        [] => Some(id),
        [
            Token::Word {
                text,
                quoted: false,
            },
        ] if text.bytes().all(|b| b.is_ascii_digit()) => Some(id),
        _ => None,
    }
}

/// `method [/ version] = result [reason=value] [ptype.property=pvalue …]`.
fn resinfo(group: &[Token]) -> Option<ResInfo> {
    let mut i = 0;
    let method = word(group.get(i)?)?.to_ascii_lowercase();
    i += 1;
    if group.get(i) == Some(&Token::Slash) {
        word(group.get(i + 1)?)?;
        i += 2;
    }
    if group.get(i)? != &Token::Equals {
        return None;
    }
    let result = word(group.get(i + 1)?)?.to_ascii_lowercase();
    i += 2;
    let mut properties = Vec::new();
    while i < group.len() {
        let name = word(&group[i])?.to_ascii_lowercase();
        i += 1;
        let name = if name == "reason" {
            name
        } else {
            if group.get(i)? != &Token::Dot {
                return None;
            }
            let property = word(group.get(i + 1)?)?.to_ascii_lowercase();
            i += 2;
            format!("{name}.{property}")
        };
        if group.get(i)? != &Token::Equals {
            return None;
        }
        i += 1;
        let (value, used) = pvalue(&group[i..])?;
        i += used;
        properties.push((name, value));
    }
    Some(ResInfo {
        method,
        result,
        properties,
    })
}

fn word(token: &Token) -> Option<&str> {
    match token {
        Token::Word {
            text,
            quoted: false,
        } => Some(text),
        _ => None,
    }
}

/// A property value: a quoted string, or an unquoted value that may hold dots and slashes
/// (`example.org`, `user@example.org`, `base64/+=`) up to the next property name.
fn pvalue(tokens: &[Token]) -> Option<(String, usize)> {
    if let Some(Token::Word { text, quoted: true }) = tokens.first() {
        return Some((text.clone(), 1));
    }
    let mut value = String::new();
    let mut used = 0;
    let mut expect_word = true;
    for (i, token) in tokens.iter().enumerate() {
        match token {
            Token::Word {
                text,
                quoted: false,
            } if expect_word => {
                // `header.from=a.org smtp.mailfrom=b`: a word followed by "." and then "="
                // two tokens later starts the next property.
                if i > 0 && starts_property(&tokens[i..]) {
                    break;
                }
                value.push_str(text);
                expect_word = false;
            }
            Token::Dot | Token::Slash | Token::Equals if !expect_word || i == 0 => {
                value.push(match token {
                    Token::Dot => '.',
                    Token::Slash => '/',
                    _ => '=',
                });
                expect_word = true;
            }
            Token::Word { quoted: false, .. } if !expect_word => {
                if starts_property(&tokens[i..]) {
                    break;
                }
                return None;
            }
            _ => return None,
        }
        used = i + 1;
    }
    (!value.is_empty()).then_some((value, used))
}

/// Whether `tokens` start `ptype.property=` or `reason=`.
fn starts_property(tokens: &[Token]) -> bool {
    match tokens {
        [
            Token::Word {
                text,
                quoted: false,
            },
            Token::Equals,
            ..,
        ] => text.eq_ignore_ascii_case("reason"),
        [
            Token::Word { quoted: false, .. },
            Token::Dot,
            Token::Word { quoted: false, .. },
            Token::Equals,
            ..,
        ] => true,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dmarc(value: &str) -> Option<(String, Option<String>)> {
        let parsed = parse(value).ok()?;
        let r = parsed.results.iter().find(|r| r.method == "dmarc")?;
        Some((
            r.result.clone(),
            r.property("header.from").map(str::to_string),
        ))
    }

    #[test]
    fn parses_by_the_grammar() {
        // (payload, authserv-id of a well-formed field, dmarc result and header.from)
        type Case = (
            &'static str,
            Option<&'static str>,
            Option<(&'static str, Option<&'static str>)>,
        );
        let cases: Vec<Case> = vec![
            (
                " mx.example.org; dmarc=pass header.from=example.org",
                Some("mx.example.org"),
                Some(("pass", Some("example.org"))),
            ),
            (
                " mx.example.org 1; spf=pass smtp.mailfrom=a@b.example;\r\n dkim=pass (good sig) header.d=example.org header.s=sel;\r\n dmarc=pass (p=none dis=none) header.from=Example.ORG",
                Some("mx.example.org"),
                Some(("pass", Some("Example.ORG"))),
            ),
            (
                " (leading comment) \"mx.example.org\"; dmarc = fail reason=\"no alignment\" header.from = example.org",
                Some("mx.example.org"),
                Some(("fail", Some("example.org"))),
            ),
            (
                " mx.example.org; spf=pass smtp.mailfrom=\"x@y.example;dmarc=pass \"",
                Some("mx.example.org"),
                None,
            ),
            (
                " mx.example.org; spf=pass (dmarc=pass) smtp.mailfrom=y.example",
                Some("mx.example.org"),
                None,
            ),
            (" mx.example.org; none", Some("mx.example.org"), None),
            (
                " mx.example.org; dmarc/1=pass header.from=a.example",
                Some("mx.example.org"),
                Some(("pass", Some("a.example"))),
            ),
            (
                " mx.example.org; dmarc=passed",
                Some("mx.example.org"),
                Some(("passed", None)),
            ),
            // Not the grammar: nothing is believed.
            (" mx.example.org", None, None),
            (" mx.example.org; dmarc", None, None),
            (" mx.example.org; dmarc=pass header.from", None, None),
            (" mx.example.org; dmarc=pass \"unterminated", None, None),
            (" mx.example.org (unterminated; dmarc=pass", None, None),
            (" mx.example.org extra words; dmarc=pass", None, None),
            ("", None, None),
        ];
        for (payload, id, want) in cases {
            let parsed = parse(payload);
            assert_eq!(
                parsed.as_ref().ok().map(|p| p.authserv_id.as_str()),
                id,
                "authserv-id of {payload:?}: {parsed:?}"
            );
            let got = dmarc(payload);
            let got = got.as_ref().map(|(r, f)| (r.as_str(), f.as_deref()));
            assert_eq!(got, want, "dmarc of {payload:?}: {parsed:?}");
        }
    }

    #[test]
    fn a_malformed_field_still_names_its_server() {
        let cases = [
            (" mx.example.org; dmarc", Some("mx.example.org")),
            (
                " mx.example.org; dmarc=pass \"unterminated",
                Some("mx.example.org"),
            ),
            (" mx.example.org (open; dmarc=pass", None),
            (" ; dmarc=pass", None),
        ];
        for (payload, id) in cases {
            assert_eq!(
                parse(payload).map_err(|m| m.authserv_id),
                Err(id.map(str::to_string)),
                "payload {payload:?}"
            );
        }
    }
}
