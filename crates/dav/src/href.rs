//! One canonical spelling of resource paths.
//!
//! A path arrives percent-encoded (request target, `DAV:href`); it is decoded exactly
//! once into a [`DavPath`], which is the resource's name: `/u/a@b/` and `/u/a%40b/`
//! decode to the same `DavPath` and so reach the same resource. Every href the server
//! emits is made by [`encode_into`], which escapes every byte except RFC 3986
//! unreserved characters and `/` — the same spelling python-caldav mints with
//! `quote(safe="/")`, so a client's own URL (`…/uid%40host.ics`) comes back to it
//! byte for byte, and `@` is always emitted as `%40`, space as `%20`.
//!
//! Refused: invalid escapes, an escaped `/` (`%2F`, which would let one name hide a
//! different segmentation), `.` and `..` segments (before or after decoding), NUL and
//! other control characters, and bytes that are not UTF-8.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum HrefError {
    #[error("the path does not start with /")]
    NotAbsolute,
    #[error("the path has a % that is not followed by two hex digits")]
    BadEscape,
    #[error("the path has an escaped slash (%2F)")]
    EscapedSlash,
    #[error("the path has a . or .. segment")]
    DotSegment,
    #[error("the path has a control character")]
    ControlCharacter,
    #[error("the path is not UTF-8 once decoded")]
    NotUtf8,
}

/// A decoded, normalised path: leading `/`, no empty, `.` or `..` segments; a
/// trailing `/` kept as the client wrote it (collections are spelled with one).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DavPath {
    decoded: String,
}

impl DavPath {
    /// Decodes a request target's path (no query, no fragment).
    pub fn parse(raw: &str) -> Result<DavPath, HrefError> {
        if !raw.starts_with('/') {
            return Err(HrefError::NotAbsolute);
        }
        let mut decoded = String::with_capacity(raw.len());
        // Empty segments (`//`) collapse; a trailing `/` is kept.
        for raw_segment in raw.split('/').filter(|s| !s.is_empty()) {
            let segment = decode_segment(raw_segment)?;
            if segment == "." || segment == ".." {
                return Err(HrefError::DotSegment);
            }
            decoded.push('/');
            decoded.push_str(&segment);
        }
        if decoded.is_empty() || raw.ends_with('/') {
            decoded.push('/');
        }
        Ok(DavPath { decoded })
    }

    /// Decodes an href from a request body: a path, or an absolute URL whose path is
    /// taken (`http://host:8080/cal/x.ics` → `/cal/x.ics`); a query is dropped.
    pub fn parse_href(raw: &str) -> Result<DavPath, HrefError> {
        let raw = raw.trim();
        let path = match raw.find("://") {
            Some(i)
                if raw[..i]
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b)) =>
            {
                let rest = &raw[i + 3..];
                rest.find('/').map_or("/", |j| &rest[j..])
            }
            _ => raw,
        };
        let path = path.split(['?', '#']).next().unwrap_or(path);
        DavPath::parse(path)
    }

    /// A path built by the server from decoded segments (user names, collection and
    /// object names); each segment is checked as if it had arrived encoded.
    pub fn from_segments<'a>(
        segments: impl IntoIterator<Item = &'a str>,
        collection: bool,
    ) -> Result<DavPath, HrefError> {
        let mut decoded = String::from("/");
        for s in segments {
            if s.is_empty() {
                continue;
            }
            if s == "." || s == ".." {
                return Err(HrefError::DotSegment);
            }
            if s.contains('/') {
                return Err(HrefError::EscapedSlash);
            }
            if s.bytes().any(|b| b.is_ascii_control()) {
                return Err(HrefError::ControlCharacter);
            }
            if decoded.len() > 1 {
                decoded.push('/');
            }
            decoded.push_str(s);
        }
        if collection && decoded.len() > 1 {
            decoded.push('/');
        }
        Ok(DavPath { decoded })
    }

    /// The decoded path, with the trailing `/` if it had one.
    pub fn as_str(&self) -> &str {
        &self.decoded
    }

    /// The resource's identity: the decoded path without a trailing `/`, so `/cal`
    /// and `/cal/` are one name.
    pub fn key(&self) -> &str {
        if self.decoded.len() > 1 {
            self.decoded.trim_end_matches('/')
        } else {
            &self.decoded
        }
    }

    pub fn is_collection_form(&self) -> bool {
        self.decoded.ends_with('/')
    }

    /// The decoded segments.
    pub fn segments(&self) -> impl Iterator<Item = &str> {
        self.decoded.split('/').filter(|s| !s.is_empty())
    }

    /// The last segment (the resource name in its collection).
    pub fn name(&self) -> Option<&str> {
        self.segments().last()
    }

    /// The parent collection, spelled with its trailing `/`.
    pub fn parent(&self) -> Option<DavPath> {
        let key = self.key();
        let cut = key.rfind('/')?;
        if key == "/" {
            return None;
        }
        Some(DavPath {
            decoded: key[..=cut].to_string(),
        })
    }

    /// The path as the server emits it.
    pub fn encoded(&self) -> String {
        let mut s = String::with_capacity(self.decoded.len() + 8);
        encode_into(&self.decoded, &mut s);
        s
    }
}

impl fmt::Display for DavPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.encoded())
    }
}

fn decode_segment(raw: &str) -> Result<String, HrefError> {
    let input = raw.as_bytes();
    let mut bytes = Vec::with_capacity(input.len());
    let mut i = 0;
    while i < input.len() {
        let b = if input[i] == b'%' {
            let hex = |c: Option<&u8>| c.and_then(|&c| (c as char).to_digit(16));
            let (Some(h), Some(l)) = (hex(input.get(i + 1)), hex(input.get(i + 2))) else {
                return Err(HrefError::BadEscape);
            };
            i += 3;
            let decoded = (h * 16 + l) as u8;
            if decoded == b'/' {
                return Err(HrefError::EscapedSlash);
            }
            decoded
        } else {
            i += 1;
            input[i - 1]
        };
        if b < 0x20 || b == 0x7f {
            return Err(HrefError::ControlCharacter);
        }
        bytes.push(b);
    }
    String::from_utf8(bytes).map_err(|_| HrefError::NotUtf8)
}

const HEX: &[u8; 16] = b"0123456789ABCDEF";

/// RFC 3986 unreserved characters and `/`: emitted as they are.
const KEEP: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        t[b] = c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_' | b'~' | b'/');
        b += 1;
    }
    t
};

/// Appends the canonical encoding of a decoded path. The result needs no further XML
/// escaping: it is pure ASCII without `&`, `<`, `>` or quotes.
pub fn encode_into(decoded: &str, out: &mut String) {
    let bytes = decoded.as_bytes();
    let mut start = 0;
    while let Some(offset) = bytes[start..].iter().position(|&b| !KEEP[usize::from(b)]) {
        let i = start + offset;
        // A run of kept bytes is ASCII, so a non-empty `start..i` is on char
        // boundaries (an empty one may sit inside a multi-byte character).
        if i > start {
            out.push_str(&decoded[start..i]);
        }
        let b = bytes[i];
        out.push('%');
        out.push(HEX[usize::from(b >> 4)] as char);
        out.push(HEX[usize::from(b & 15)] as char);
        start = i + 1;
    }
    if start < bytes.len() {
        out.push_str(&decoded[start..]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_once_and_emits_one_spelling() {
        // (raw, decoded, emitted)
        let cases = [
            ("/", "/", "/"),
            (
                "/dav/calendars/alice@example.com/",
                "/dav/calendars/alice@example.com/",
                "/dav/calendars/alice%40example.com/",
            ),
            (
                "/dav/calendars/alice%40example.com/",
                "/dav/calendars/alice@example.com/",
                "/dav/calendars/alice%40example.com/",
            ),
            ("/cal/My%20Cal/", "/cal/My Cal/", "/cal/My%20Cal/"),
            ("/cal/My Cal/", "/cal/My Cal/", "/cal/My%20Cal/"),
            ("/cal/ty%C3%B6.ics", "/cal/työ.ics", "/cal/ty%C3%B6.ics"),
            ("/cal/työ.ics", "/cal/työ.ics", "/cal/ty%C3%B6.ics"),
            // Decoded exactly once: %2540 is the three characters %40, not @.
            ("/cal/a%2540b.ics", "/cal/a%40b.ics", "/cal/a%2540b.ics"),
            // python-caldav quotes a UID's "/" as %2F and then quotes again: %252F.
            ("/cal/a%252Fb.ics", "/cal/a%2Fb.ics", "/cal/a%252Fb.ics"),
            ("//cal///x.ics", "/cal/x.ics", "/cal/x.ics"),
            ("/cal/x%7e_-.ics", "/cal/x~_-.ics", "/cal/x~_-.ics"),
            ("/a+b/c:d;e=f", "/a+b/c:d;e=f", "/a%2Bb/c%3Ad%3Be%3Df"),
        ];
        for (raw, decoded, emitted) in cases {
            let p = DavPath::parse(raw).unwrap_or_else(|e| panic!("parse({raw:?}) failed: {e}"));
            assert_eq!(p.as_str(), decoded, "decoded form of {raw:?}");
            assert_eq!(p.encoded(), emitted, "emitted form of {raw:?}");
            let again = DavPath::parse(&p.encoded()).expect("the emitted form parses");
            assert_eq!(again, p, "emitted form of {raw:?} names the same resource");
        }
    }

    #[test]
    fn both_at_spellings_name_one_resource() {
        let literal = DavPath::parse("/cal/alice@example.com/e%40x.ics").unwrap();
        let encoded = DavPath::parse("/cal/alice%40example.com/e@x.ics").unwrap();
        assert_eq!(literal, encoded);
        assert_eq!(literal.key(), encoded.key());
    }

    #[test]
    fn refuses_hostile_paths() {
        let cases = [
            ("relative", HrefError::NotAbsolute),
            ("/cal/../other/", HrefError::DotSegment),
            ("/cal/%2e%2e/other/", HrefError::DotSegment),
            ("/cal/./x", HrefError::DotSegment),
            ("/cal/..", HrefError::DotSegment),
            ("/cal/%2E", HrefError::DotSegment),
            ("/cal/a%2Fb", HrefError::EscapedSlash),
            ("/cal/a%2fb", HrefError::EscapedSlash),
            ("/cal/a%00b", HrefError::ControlCharacter),
            ("/cal/a%0Ab", HrefError::ControlCharacter),
            ("/cal/a\u{0}b", HrefError::ControlCharacter),
            ("/cal/a%G0", HrefError::BadEscape),
            ("/cal/a%4", HrefError::BadEscape),
            ("/cal/%FF%FE", HrefError::NotUtf8),
            ("/cal/%C3", HrefError::NotUtf8),
        ];
        for (raw, want) in cases {
            assert_eq!(DavPath::parse(raw), Err(want), "parse({raw:?})");
        }
    }

    #[test]
    fn hrefs_in_bodies_may_be_absolute_urls() {
        let cases = [
            ("http://127.0.0.1:8080/cal/x.ics", "/cal/x.ics"),
            ("https://dav.example.com/cal/a%40b.ics?x=1", "/cal/a@b.ics"),
            ("  /cal/y.ics\n", "/cal/y.ics"),
            ("https://host", "/"),
        ];
        for (raw, want) in cases {
            assert_eq!(
                DavPath::parse_href(raw).map(|p| p.as_str().to_string()),
                Ok(want.to_string()),
                "{raw:?}"
            );
        }
    }

    #[test]
    fn parents_and_names() {
        let p = DavPath::parse("/cal/home/work/e.ics").unwrap();
        assert_eq!(p.name(), Some("e.ics"));
        assert_eq!(p.parent().unwrap().as_str(), "/cal/home/work/");
        let c = DavPath::parse("/cal/home/").unwrap();
        assert_eq!(c.parent().unwrap().as_str(), "/cal/");
        assert_eq!(c.key(), "/cal/home");
        assert!(DavPath::parse("/").unwrap().parent().is_none());
        let built = DavPath::from_segments(["dav", "alice@example.com", "cal"], true).unwrap();
        assert_eq!(built.encoded(), "/dav/alice%40example.com/cal/");
        assert_eq!(
            DavPath::from_segments(["a/b"], false),
            Err(HrefError::EscapedSlash)
        );
    }
}
