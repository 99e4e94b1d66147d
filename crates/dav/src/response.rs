//! Responses rendered into one growing buffer: `DAV:multistatus` with its responses,
//! propstats and statuses (RFC 4918 section 13), the sync-token of RFC 6578, and the
//! element writer that property values are written with.
//!
//! Every known namespace is declared once on the root with a stable prefix (`d:`, `c:`,
//! `card:`, `cs:`, `ical:`); an element in any other namespace declares it as its
//! default namespace, so dead properties render without prefix bookkeeping.

use crate::escape;
use crate::href;
use crate::name::{Ns, PropName};

/// The namespace declarations every root element carries.
pub const ROOT_NAMESPACES: &str = concat!(
    " xmlns:d=\"DAV:\"",
    " xmlns:c=\"urn:ietf:params:xml:ns:caldav\"",
    " xmlns:card=\"urn:ietf:params:xml:ns:carddav\"",
    " xmlns:cs=\"http://calendarserver.org/ns/\"",
    " xmlns:ical=\"http://apple.com/ns/ical/\"",
);

/// The status line text of a status code, as `DAV:status` spells it.
pub fn status_line(code: u16) -> &'static str {
    match code {
        200 => "HTTP/1.1 200 OK",
        201 => "HTTP/1.1 201 Created",
        204 => "HTTP/1.1 204 No Content",
        207 => "HTTP/1.1 207 Multi-Status",
        400 => "HTTP/1.1 400 Bad Request",
        401 => "HTTP/1.1 401 Unauthorized",
        403 => "HTTP/1.1 403 Forbidden",
        404 => "HTTP/1.1 404 Not Found",
        405 => "HTTP/1.1 405 Method Not Allowed",
        409 => "HTTP/1.1 409 Conflict",
        412 => "HTTP/1.1 412 Precondition Failed",
        413 => "HTTP/1.1 413 Content Too Large",
        415 => "HTTP/1.1 415 Unsupported Media Type",
        422 => "HTTP/1.1 422 Unprocessable Content",
        423 => "HTTP/1.1 423 Locked",
        424 => "HTTP/1.1 424 Failed Dependency",
        500 => "HTTP/1.1 500 Internal Server Error",
        507 => "HTTP/1.1 507 Insufficient Storage",
        _ => "HTTP/1.1 500 Internal Server Error",
    }
}

/// Writes elements and escaped content into a response buffer.
pub struct Xml<'a> {
    out: &'a mut String,
}

impl<'a> Xml<'a> {
    pub fn new(out: &'a mut String) -> Xml<'a> {
        Xml { out }
    }

    /// `<p:local` (unclosed), or `<local xmlns="…"` for namespaces without a prefix.
    fn start_tag(&mut self, ns: &Ns, local: &str) {
        self.out.push('<');
        match ns.prefix() {
            Some(p) => {
                self.out.push_str(p);
                self.out.push(':');
                self.out.push_str(local);
            }
            None => {
                self.out.push_str(local);
                self.out.push_str(" xmlns=\"");
                escape::attr_into(ns.uri(), self.out);
                self.out.push('"');
            }
        }
    }

    pub fn open(&mut self, ns: &Ns, local: &str) {
        self.start_tag(ns, local);
        self.out.push('>');
    }

    /// An opening tag with attributes (`<c:comp name="VEVENT">` with `empty` false).
    pub fn open_with(&mut self, ns: &Ns, local: &str, attrs: &[(&str, &str)], empty: bool) {
        self.start_tag(ns, local);
        for (k, v) in attrs {
            self.out.push(' ');
            self.out.push_str(k);
            self.out.push_str("=\"");
            escape::attr_into(v, self.out);
            self.out.push('"');
        }
        self.out.push_str(if empty { "/>" } else { ">" });
    }

    pub fn close(&mut self, ns: &Ns, local: &str) {
        self.out.push_str("</");
        if let Some(p) = ns.prefix() {
            self.out.push_str(p);
            self.out.push(':');
        }
        self.out.push_str(local);
        self.out.push('>');
    }

    pub fn empty(&mut self, ns: &Ns, local: &str) {
        self.start_tag(ns, local);
        self.out.push_str("/>");
    }

    /// Escaped character data.
    pub fn text(&mut self, s: &str) {
        escape::text_into(s, self.out);
    }

    /// Already-rendered, self-contained XML (a stored dead property value).
    pub fn raw(&mut self, xml: &str) {
        self.out.push_str(xml);
    }

    /// `<d:href>` with the canonical encoding of a decoded path.
    pub fn href(&mut self, decoded_path: &str) {
        self.out.push_str("<d:href>");
        href::encode_into(decoded_path, self.out);
        self.out.push_str("</d:href>");
    }

    /// `<d:href>` with an absolute URI that is not a path (`mailto:…`, `urn:uuid:…`).
    pub fn href_uri(&mut self, uri: &str) {
        self.out.push_str("<d:href>");
        escape::text_into(uri, self.out);
        self.out.push_str("</d:href>");
    }

    pub fn status(&mut self, code: u16) {
        self.out.push_str("<d:status>");
        self.out.push_str(status_line(code));
        self.out.push_str("</d:status>");
    }

    /// `<name>text</name>`.
    pub fn text_element(&mut self, ns: &Ns, local: &str, text: &str) {
        self.open(ns, local);
        self.text(text);
        self.close(ns, local);
    }

    pub fn prop_open(&mut self, name: &PropName) {
        self.open(name.ns(), name.local());
    }

    pub fn prop_close(&mut self, name: &PropName) {
        self.close(name.ns(), name.local());
    }

    pub fn prop_empty(&mut self, name: &PropName) {
        self.empty(name.ns(), name.local());
    }

    pub(crate) fn len(&self) -> usize {
        self.out.len()
    }

    pub(crate) fn truncate(&mut self, len: usize) {
        self.out.truncate(len);
    }
}

/// A multistatus body under construction.
pub struct Multistatus {
    out: String,
}

impl Default for Multistatus {
    fn default() -> Self {
        Self::with_capacity(4096)
    }
}

impl Multistatus {
    /// `capacity`: a PROPFIND of 10,000 objects with etags is about 2 MB.
    pub fn with_capacity(capacity: usize) -> Multistatus {
        let mut out = String::with_capacity(capacity.max(256));
        out.push_str("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<d:multistatus");
        out.push_str(ROOT_NAMESPACES);
        out.push('>');
        Multistatus { out }
    }

    /// Starts a `DAV:response` for a decoded path; the response is closed when the
    /// returned writer is dropped.
    pub fn response(&mut self, decoded_path: &str) -> Response<'_> {
        self.out.push_str("<d:response>");
        Xml::new(&mut self.out).href(decoded_path);
        Response { out: &mut self.out }
    }

    /// A response with a status and no properties: a member deleted since the sync
    /// token (404), or an href of a multiget that names nothing (404).
    pub fn status_response(&mut self, decoded_path: &str, code: u16) {
        self.out.push_str("<d:response>");
        let mut x = Xml::new(&mut self.out);
        x.href(decoded_path);
        x.status(code);
        self.out.push_str("</d:response>");
    }

    /// The response for the collection of a report cut at the client's limit (RFC 5323
    /// section 5.18.2 style, as RFC 6352 section 8.6.1 and RFC 6578 section 3.7 use it):
    /// `507` with the `number-of-matches-within-limits` error and a description.
    pub fn truncated(&mut self, decoded_path: &str, description: &str) {
        self.out.push_str("<d:response>");
        let mut x = Xml::new(&mut self.out);
        x.href(decoded_path);
        x.status(507);
        self.out.push_str("<d:error>");
        crate::error::Precondition::NumberOfMatchesWithinLimits.write_element(&mut self.out);
        self.out.push_str("</d:error>");
        Xml::new(&mut self.out).text_element(&Ns::Dav, "responsedescription", description);
        self.out.push_str("</d:response>");
    }

    /// Closes the body; `sync_token` is the new token of a sync-collection report.
    pub fn finish(mut self, sync_token: Option<&str>) -> String {
        if let Some(t) = sync_token {
            Xml::new(&mut self.out).text_element(&Ns::Dav, "sync-token", t);
        }
        self.out.push_str("</d:multistatus>\n");
        self.out
    }
}

/// One `DAV:response`.
pub struct Response<'a> {
    out: &'a mut String,
}

impl Response<'_> {
    /// Opens a propstat; write the properties, then call [`Propstat::end`] with the
    /// status they share.
    pub fn propstat(&mut self) -> Propstat<'_> {
        self.out.push_str("<d:propstat><d:prop>");
        let start = self.out.len();
        Propstat {
            xml: Xml::new(self.out),
            start,
        }
    }

    /// A response-level error (`<d:error>` after the propstats), as RFC 4918
    /// section 14.24 allows.
    pub fn error(&mut self, p: &crate::error::Precondition) {
        self.out.push_str("<d:error>");
        p.write_element(self.out);
        self.out.push_str("</d:error>");
    }

    /// `<d:responsedescription>`, last in the response.
    pub fn description(&mut self, text: &str) {
        Xml::new(self.out).text_element(&Ns::Dav, "responsedescription", text);
    }
}

impl Drop for Response<'_> {
    fn drop(&mut self) {
        self.out.push_str("</d:response>");
    }
}

/// An open `DAV:propstat`.
pub struct Propstat<'a> {
    xml: Xml<'a>,
    start: usize,
}

impl<'a> Propstat<'a> {
    pub fn xml(&mut self) -> &mut Xml<'a> {
        &mut self.xml
    }

    /// True when nothing has been written into this propstat yet.
    pub fn is_empty(&self) -> bool {
        self.xml.len() == self.start
    }

    pub fn end(mut self, code: u16) {
        self.xml.raw("</d:prop>");
        self.xml.status(code);
        self.xml.raw("</d:propstat>");
    }

    /// Removes this propstat again (nothing was found for it).
    pub fn discard(mut self) {
        let open = "<d:propstat><d:prop>".len();
        self.xml.truncate(self.start - open);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::name::Name;

    #[test]
    fn renders_a_multistatus_with_grouped_propstats_and_a_sync_token() {
        let mut ms = Multistatus::default();
        {
            let mut r = ms.response("/cal/alice@example.com/work/");
            let mut ok = r.propstat();
            let x = ok.xml();
            x.prop_open(&PropName::DisplayName);
            x.text("Work & <Play>");
            x.prop_close(&PropName::DisplayName);
            ok.end(200);
            let mut missing = r.propstat();
            missing
                .xml()
                .prop_empty(&PropName::Dead(Name::new(Ns::from_uri("urn:x"), "y")));
            missing.end(404);
            let empty = r.propstat();
            assert!(empty.is_empty());
            empty.discard();
        }
        ms.status_response("/cal/alice@example.com/work/gone.ics", 404);
        let body = ms.finish(Some("http://imipd.invalid/sync/7"));
        let want = concat!(
            "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<d:multistatus",
            " xmlns:d=\"DAV:\" xmlns:c=\"urn:ietf:params:xml:ns:caldav\" xmlns:card=\"urn:ietf:params:xml:ns:carddav\"",
            " xmlns:cs=\"http://calendarserver.org/ns/\" xmlns:ical=\"http://apple.com/ns/ical/\">",
            "<d:response><d:href>/cal/alice%40example.com/work/</d:href>",
            "<d:propstat><d:prop><d:displayname>Work &amp; &lt;Play&gt;</d:displayname></d:prop>",
            "<d:status>HTTP/1.1 200 OK</d:status></d:propstat>",
            "<d:propstat><d:prop><y xmlns=\"urn:x\"/></d:prop><d:status>HTTP/1.1 404 Not Found</d:status></d:propstat>",
            "</d:response>",
            "<d:response><d:href>/cal/alice%40example.com/work/gone.ics</d:href><d:status>HTTP/1.1 404 Not Found</d:status></d:response>",
            "<d:sync-token>http://imipd.invalid/sync/7</d:sync-token></d:multistatus>\n",
        );
        assert_eq!(body, want);
    }
}
