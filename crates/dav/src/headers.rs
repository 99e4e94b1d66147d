//! Conditional and DAV request headers: `If-Match`, `If-None-Match` (RFC 9110
//! section 13.1), `If-Schedule-Tag-Match` (RFC 6638 section 8.3), `Depth`
//! (RFC 4918 section 10.2), `Prefer` (RFC 7240, `return=minimal` of RFC 8144) and
//! Microsoft's `Brief`, which Apple clients still send.

/// An entity tag. Stored ETags are strong; a weak tag never matches a strong
/// comparison, which is what `If-Match` uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntityTag {
    pub weak: bool,
    /// The opaque tag without quotes.
    pub tag: String,
}

impl EntityTag {
    pub fn strong(tag: &str) -> EntityTag {
        EntityTag {
            weak: false,
            tag: tag.to_string(),
        }
    }

    /// The header form, `"tag"` or `W/"tag"`.
    pub fn header_value(&self) -> String {
        format!("{}\"{}\"", if self.weak { "W/" } else { "" }, self.tag)
    }
}

/// The value of `If-Match` or `If-None-Match`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EtagCondition {
    Any,
    Tags(Vec<EntityTag>),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeaderError {
    #[error("{header}: {value:?} is not a list of quoted entity tags or *")]
    BadEntityTags { header: &'static str, value: String },
    #[error("Depth: {0:?} is not 0, 1 or infinity")]
    BadDepth(String),
}

/// Parses `*` or a comma-separated list of entity tags.
pub fn parse_etag_condition(
    header: &'static str,
    value: &str,
) -> Result<EtagCondition, HeaderError> {
    let bad = || HeaderError::BadEntityTags {
        header,
        value: value.to_string(),
    };
    let v = value.trim();
    if v == "*" {
        return Ok(EtagCondition::Any);
    }
    let mut tags = Vec::new();
    let mut rest = v;
    loop {
        rest = rest.trim_start_matches([' ', '\t', ',']);
        if rest.is_empty() {
            break;
        }
        let (weak, r) = match rest.strip_prefix("W/") {
            Some(r) => (true, r),
            None => (false, rest),
        };
        let r = r.strip_prefix('"').ok_or_else(bad)?;
        let end = r.find('"').ok_or_else(bad)?;
        let tag = &r[..end];
        if tag.bytes().any(|b| b < 0x21 || b == 0x7f) {
            return Err(bad());
        }
        tags.push(EntityTag {
            weak,
            tag: tag.to_string(),
        });
        rest = r[end + 1..].trim_start();
        if !(rest.is_empty() || rest.starts_with(',')) {
            return Err(bad());
        }
    }
    if tags.is_empty() {
        return Err(bad());
    }
    Ok(EtagCondition::Tags(tags))
}

impl EtagCondition {
    /// `If-Match` (strong comparison): does the current state satisfy it?
    /// `current` is the resource's ETag (unquoted), `None` when it does not exist.
    pub fn if_match(&self, current: Option<&str>) -> bool {
        match (self, current) {
            (_, None) => false,
            (EtagCondition::Any, Some(_)) => true,
            (EtagCondition::Tags(tags), Some(c)) => tags.iter().any(|t| !t.weak && t.tag == c),
        }
    }

    /// `If-None-Match` (weak comparison): does the current state satisfy it?
    pub fn if_none_match(&self, current: Option<&str>) -> bool {
        match (self, current) {
            (_, None) => true,
            (EtagCondition::Any, Some(_)) => false,
            (EtagCondition::Tags(tags), Some(c)) => !tags.iter().any(|t| t.tag == c),
        }
    }
}

/// The conditions of a write, evaluated before anything is stored.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Conditions {
    pub if_match: Option<EtagCondition>,
    pub if_none_match: Option<EtagCondition>,
    /// RFC 6638 section 8.3: compared with the stored Schedule-Tag, not the ETag.
    pub if_schedule_tag_match: Option<EntityTag>,
}

impl Conditions {
    /// Reads the three headers; pass the raw values the request carried.
    pub fn parse(
        if_match: Option<&str>,
        if_none_match: Option<&str>,
        if_schedule_tag_match: Option<&str>,
    ) -> Result<Conditions, HeaderError> {
        let schedule = match if_schedule_tag_match {
            None => None,
            Some(v) => match parse_etag_condition("If-Schedule-Tag-Match", v)? {
                EtagCondition::Tags(mut t) if t.len() == 1 => t.pop(),
                _ => {
                    return Err(HeaderError::BadEntityTags {
                        header: "If-Schedule-Tag-Match",
                        value: v.to_string(),
                    });
                }
            },
        };
        Ok(Conditions {
            if_match: if_match
                .map(|v| parse_etag_condition("If-Match", v))
                .transpose()?,
            if_none_match: if_none_match
                .map(|v| parse_etag_condition("If-None-Match", v))
                .transpose()?,
            if_schedule_tag_match: schedule,
        })
    }

    /// True when the write may go ahead; false means 412 Precondition Failed.
    /// `etag` and `schedule_tag` describe the resource as stored now (`None`: absent).
    pub fn hold(&self, etag: Option<&str>, schedule_tag: Option<&str>) -> bool {
        self.if_match.as_ref().is_none_or(|c| c.if_match(etag))
            && self
                .if_none_match
                .as_ref()
                .is_none_or(|c| c.if_none_match(etag))
            && self
                .if_schedule_tag_match
                .as_ref()
                .is_none_or(|t| schedule_tag == Some(t.tag.as_str()))
    }

    /// The store precondition a write should carry: what it expects to replace.
    pub fn expectation(&self) -> Expectation {
        match (&self.if_match, &self.if_none_match) {
            (_, Some(EtagCondition::Any)) => Expectation::Absent,
            (Some(EtagCondition::Tags(tags)), _) if tags.len() == 1 && !tags[0].weak => {
                Expectation::Etag(tags[0].tag.clone())
            }
            (Some(EtagCondition::Any), _) => Expectation::Present,
            _ => Expectation::Anything,
        }
    }
}

/// What a write expects to find, handed to the store so the check and the write
/// happen in one step (a second writer between them fails instead of winning).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expectation {
    Anything,
    Absent,
    Present,
    Etag(String),
}

/// `Depth`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Depth {
    Zero,
    One,
    Infinity,
}

/// Parses `Depth`; `default` applies when the header is absent (PROPFIND:
/// infinity, REPORT: 0, RFC 4918 section 10.2 and RFC 3253 section 3.6).
pub fn parse_depth(value: Option<&str>, default: Depth) -> Result<Depth, HeaderError> {
    match value.map(str::trim) {
        None => Ok(default),
        Some("0") => Ok(Depth::Zero),
        Some("1") => Ok(Depth::One),
        Some(v) if v.eq_ignore_ascii_case("infinity") => Ok(Depth::Infinity),
        Some(v) => Err(HeaderError::BadDepth(v.to_string())),
    }
}

/// The depth a PROPFIND is answered at. `Depth: infinity` (and a PROPFIND without
/// `Depth`, which means infinity) is refused with 403 and `DAV:propfind-finite-depth`,
/// as RFC 4918 section 9.1 allows: a principal tree walked to the bottom is every
/// object of every calendar, and no client we know of needs it.
pub fn propfind_depth(value: Option<&str>) -> Result<Depth, crate::error::Precondition> {
    match parse_depth(value, Depth::Infinity) {
        Ok(Depth::Infinity) => Err(crate::error::Precondition::PropfindFiniteDepth),
        Ok(d) => Ok(d),
        // An unreadable Depth is a 400 in principle; read as 0 it is harmless.
        Err(_) => Ok(Depth::Zero),
    }
}

/// The depth a REPORT on a collection is answered at. Our collections hold objects,
/// not further collections, so `infinity` (Thunderbird sends it on calendar-query)
/// is answered as 1. sync-collection ignores `Depth` altogether (RFC 6578 section 3.2
/// defines it for 0, and clients send 1 as often as 0).
pub fn report_depth(value: Option<&str>) -> Depth {
    match parse_depth(value, Depth::Zero) {
        Ok(Depth::Infinity) => Depth::One,
        Ok(d) => d,
        Err(_) => Depth::Zero,
    }
}

/// `Prefer` (RFC 7240) and `Brief` as far as DAV responses use them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Prefer {
    /// `return=minimal` or `Brief: t`: leave out 404 propstats (RFC 8144 section 2.1).
    pub minimal: bool,
    /// `depth-noroot`: leave out the request-URI's own response in a Depth 1 PROPFIND.
    pub depth_noroot: bool,
}

impl Prefer {
    /// Reads every `Prefer` header value and the `Brief` header.
    pub fn parse<'a>(prefer: impl IntoIterator<Item = &'a str>, brief: Option<&str>) -> Prefer {
        let mut p = Prefer {
            minimal: brief.is_some_and(|b| b.trim().eq_ignore_ascii_case("t")),
            depth_noroot: false,
        };
        for value in prefer {
            for pref in value.split(',') {
                let token = pref.split(';').next().unwrap_or("").trim();
                let (key, val) = match token.split_once('=') {
                    Some((k, v)) => (k.trim(), v.trim().trim_matches('"')),
                    None => (token, ""),
                };
                if key.eq_ignore_ascii_case("return") && val.eq_ignore_ascii_case("minimal") {
                    p.minimal = true;
                } else if key.eq_ignore_ascii_case("return")
                    && val.eq_ignore_ascii_case("representation")
                {
                    p.minimal = false;
                } else if key.eq_ignore_ascii_case("depth-noroot") {
                    p.depth_noroot = true;
                }
            }
        }
        p
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entity_tag_lists() {
        let t = |s: &str| EntityTag::strong(s);
        let w = |s: &str| EntityTag {
            weak: true,
            tag: s.to_string(),
        };
        let cases: [(&str, Option<EtagCondition>); 7] = [
            ("*", Some(EtagCondition::Any)),
            ("\"abc\"", Some(EtagCondition::Tags(vec![t("abc")]))),
            (
                "\"a\", W/\"b\",\"c\"",
                Some(EtagCondition::Tags(vec![t("a"), w("b"), t("c")])),
            ),
            ("abc", None),
            ("\"abc", None),
            ("\"a\" \"b\"", None),
            ("", None),
        ];
        for (input, want) in cases {
            assert_eq!(
                parse_etag_condition("If-Match", input).ok(),
                want,
                "{input:?}"
            );
        }
    }

    #[test]
    fn conditions_decide_412() {
        // (If-Match, If-None-Match, stored etag, passes)
        let cases = [
            (Some("\"1\""), None, Some("1"), true),
            (Some("\"1\""), None, Some("2"), false),
            (Some("W/\"1\""), None, Some("1"), false),
            (Some("\"1\""), None, None, false),
            (Some("*"), None, None, false),
            (Some("*"), None, Some("9"), true),
            (None, Some("*"), None, true),
            (None, Some("*"), Some("1"), false),
            (None, Some("\"1\""), Some("1"), false),
            (None, Some("W/\"1\""), Some("1"), false),
            (None, Some("\"1\""), Some("2"), true),
            (None, None, Some("1"), true),
        ];
        for (im, inm, stored, want) in cases {
            let c = Conditions::parse(im, inm, None).unwrap();
            assert_eq!(
                c.hold(stored, None),
                want,
                "If-Match {im:?}, If-None-Match {inm:?}, stored {stored:?}"
            );
        }
        let c = Conditions::parse(None, None, Some("\"s1\"")).unwrap();
        assert!(c.hold(Some("e"), Some("s1")));
        assert!(!c.hold(Some("e"), Some("s2")));
        assert!(!c.hold(None, None));
        assert!(Conditions::parse(None, None, Some("*")).is_err());
    }

    #[test]
    fn expectations_for_the_store() {
        let cases = [
            (None, Some("*"), Expectation::Absent),
            (Some("\"7\""), None, Expectation::Etag("7".into())),
            (Some("*"), None, Expectation::Present),
            (None, None, Expectation::Anything),
            (Some("\"1\", \"2\""), None, Expectation::Anything),
        ];
        for (im, inm, want) in cases {
            assert_eq!(
                Conditions::parse(im, inm, None).unwrap().expectation(),
                want,
                "{im:?} {inm:?}"
            );
        }
    }

    #[test]
    fn depths() {
        assert_eq!(propfind_depth(Some("0")), Ok(Depth::Zero));
        assert_eq!(propfind_depth(Some("1")), Ok(Depth::One));
        assert_eq!(
            propfind_depth(Some("infinity")),
            Err(crate::error::Precondition::PropfindFiniteDepth)
        );
        assert_eq!(
            propfind_depth(None),
            Err(crate::error::Precondition::PropfindFiniteDepth)
        );
        assert_eq!(report_depth(Some("Infinity")), Depth::One);
        assert_eq!(report_depth(None), Depth::Zero);
        assert_eq!(
            parse_depth(Some("2"), Depth::Zero),
            Err(HeaderError::BadDepth("2".into()))
        );
    }

    #[test]
    fn prefer_and_brief() {
        let cases: [(&[&str], Option<&str>, Prefer); 5] = [
            (
                &["return=minimal"],
                None,
                Prefer {
                    minimal: true,
                    depth_noroot: false,
                },
            ),
            (
                &["return=minimal, depth-noroot"],
                None,
                Prefer {
                    minimal: true,
                    depth_noroot: true,
                },
            ),
            (
                &["respond-async", "return = \"minimal\""],
                None,
                Prefer {
                    minimal: true,
                    depth_noroot: false,
                },
            ),
            (
                &[],
                Some("t"),
                Prefer {
                    minimal: true,
                    depth_noroot: false,
                },
            ),
            (&["return=representation"], Some("f"), Prefer::default()),
        ];
        for (prefer, brief, want) in cases {
            assert_eq!(
                Prefer::parse(prefer.iter().copied(), brief),
                want,
                "{prefer:?} {brief:?}"
            );
        }
    }
}
