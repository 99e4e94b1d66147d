//! A bounded, namespace-resolved element tree built from a request body with
//! quick-xml's `NsReader`. Request bodies are small (the HTTP layer caps them), so a
//! tree is the simplest honest shape; the limits keep hostile bodies cheap.

use crate::name::{Name, Ns};
use quick_xml::{
    NsReader,
    events::{BytesStart, Event},
    name::ResolveResult,
};
use std::fmt;

/// Bounds on what a request body may contain.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Element nesting; CalDAV filters nest about 6 deep.
    pub max_depth: usize,
    /// Elements in the whole body (a multiget of 1,000 hrefs is about 1,010).
    pub max_elements: usize,
    /// Attributes on one element.
    pub max_attributes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_depth: 48,
            max_elements: 50_000,
            max_attributes: 32,
        }
    }
}

/// Why a body is not acceptable XML; the HTTP layer answers 400 for every kind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum XmlError {
    #[error("the body declares a DOCTYPE; DTDs are not accepted")]
    Doctype,
    #[error(
        "the body uses the entity &{0}; only the five XML entities and character references are accepted"
    )]
    Entity(String),
    #[error("the body nests elements deeper than {0}")]
    TooDeep(usize),
    #[error("the body has more than {0} elements")]
    TooManyElements(usize),
    #[error("an element has more than {0} attributes")]
    TooManyAttributes(usize),
    #[error("the namespace prefix {0:?} is not declared")]
    UnknownPrefix(String),
    #[error("the body is empty")]
    Empty,
    #[error("the body is not well-formed XML: {0}")]
    Malformed(String),
}

/// Element content, in document order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    Element(Element),
    Text(String),
}

/// An element with its resolved name, its unprefixed attributes and its content.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Element {
    pub name: Name,
    pub attrs: Vec<(Box<str>, String)>,
    pub children: Vec<Node>,
}

impl Element {
    pub fn is(&self, ns: &Ns, local: &str) -> bool {
        self.name.is(ns, local)
    }

    pub fn attr(&self, local: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| &**k == local)
            .map(|(_, v)| v.as_str())
    }

    pub fn elements(&self) -> impl Iterator<Item = &Element> {
        self.children.iter().filter_map(|n| match n {
            Node::Element(e) => Some(e),
            Node::Text(_) => None,
        })
    }

    pub fn child(&self, ns: &Ns, local: &str) -> Option<&Element> {
        self.elements().find(|e| e.is(ns, local))
    }

    /// The concatenated text content of this element (not of its descendants).
    pub fn text(&self) -> String {
        let mut out = String::new();
        for n in &self.children {
            if let Node::Text(t) = n {
                out.push_str(t);
            }
        }
        out
    }

    /// The content as self-contained XML: every top element declares its namespace as
    /// the default one, and every element below whose namespace differs from its parent's
    /// does too, so the fragment can be stored as a dead property value and rendered into
    /// any later document unchanged, inside a property element written with a prefix
    /// (`<c:schedule-calendar-transp>`) as inside one that sets the default namespace.
    pub fn inner_xml(&self) -> String {
        let mut out = String::new();
        for n in &self.children {
            write_node(n, "", &mut out);
        }
        out
    }
}

fn write_node(node: &Node, default_ns: &str, out: &mut String) {
    match node {
        Node::Text(t) => crate::escape::text_into(t, out),
        Node::Element(e) => write_element(e, default_ns, out),
    }
}

fn write_element(e: &Element, default_ns: &str, out: &mut String) {
    out.push('<');
    out.push_str(&e.name.local);
    let ns = e.name.ns.uri();
    if ns != default_ns {
        out.push_str(" xmlns=\"");
        crate::escape::attr_into(ns, out);
        out.push('"');
    }
    for (k, v) in &e.attrs {
        out.push(' ');
        out.push_str(k);
        out.push_str("=\"");
        crate::escape::attr_into(v, out);
        out.push('"');
    }
    if e.children.is_empty() {
        out.push_str("/>");
        return;
    }
    out.push('>');
    for c in &e.children {
        write_node(c, ns, out);
    }
    out.push_str("</");
    out.push_str(&e.name.local);
    out.push('>');
}

impl fmt::Display for Element {
    /// The element as self-contained XML.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = String::new();
        write_element(self, "", &mut s);
        f.write_str(&s)
    }
}

/// Parses a whole body into its root element.
pub fn parse(body: &[u8], limits: &Limits) -> Result<Element, XmlError> {
    let mut reader = NsReader::from_reader(body);
    let config = reader.config_mut();
    config.check_end_names = true;
    config.expand_empty_elements = false;
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    let mut elements = 0usize;
    loop {
        let (resolved, event) = reader
            .read_resolved_event()
            .map_err(|e| XmlError::Malformed(e.to_string()))?;
        match event {
            Event::Start(_) | Event::Empty(_) if root.is_some() => {
                return Err(XmlError::Malformed("content after the root element".into()));
            }
            Event::Start(ref start) | Event::Empty(ref start) => {
                elements += 1;
                if elements > limits.max_elements {
                    return Err(XmlError::TooManyElements(limits.max_elements));
                }
                if stack.len() >= limits.max_depth {
                    return Err(XmlError::TooDeep(limits.max_depth));
                }
                let element = element(resolved, start, limits)?;
                if matches!(event, Event::Empty(_)) {
                    attach(&mut stack, &mut root, element);
                } else {
                    stack.push(element);
                }
            }
            Event::End(_) => {
                let done = stack
                    .pop()
                    .ok_or_else(|| XmlError::Malformed("an end tag without a start".into()))?;
                attach(&mut stack, &mut root, done);
            }
            Event::Text(t) => {
                let text = t.xml10_content();
                push_text(&mut stack, &text)?;
            }
            Event::CData(t) => {
                let text = t.xml10_content();
                push_text(&mut stack, &text)?;
            }
            Event::GeneralRef(r) => {
                let c = if r.is_char_ref() {
                    r.resolve_char_ref()
                        .map_err(|e| XmlError::Malformed(e.to_string()))?
                        .ok_or_else(|| {
                            XmlError::Malformed("an invalid character reference".into())
                        })?
                        .to_string()
                } else {
                    let name = r.xml10_content();
                    match &*name {
                        "amp" => "&".into(),
                        "lt" => "<".into(),
                        "gt" => ">".into(),
                        "quot" => "\"".into(),
                        "apos" => "'".into(),
                        other => return Err(XmlError::Entity(other.to_string())),
                    }
                };
                push_text(&mut stack, &c)?;
            }
            Event::DocType(_) => return Err(XmlError::Doctype),
            Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {}
            Event::Eof => break,
        }
    }
    if !stack.is_empty() {
        return Err(XmlError::Malformed(
            "the body ends inside an element".into(),
        ));
    }
    root.ok_or(XmlError::Empty)
}

fn element(
    resolved: ResolveResult<'_>,
    start: &BytesStart<'_>,
    limits: &Limits,
) -> Result<Element, XmlError> {
    let ns = match resolved {
        ResolveResult::Bound(ns) => Ns::from_uri(ns.0),
        ResolveResult::Unbound => Ns::Other("".into()),
        ResolveResult::Unknown(prefix) => return Err(XmlError::UnknownPrefix(prefix)),
    };
    let local = start.local_name();
    if !is_name(local.as_ref()) {
        return Err(XmlError::Malformed(format!(
            "{:?} is not an XML name",
            local.as_ref()
        )));
    }
    let mut attrs = Vec::new();
    for attr in start.attributes() {
        let attr = attr.map_err(|e| XmlError::Malformed(e.to_string()))?;
        let key = attr.key.as_ref();
        if key == "xmlns" || key.starts_with("xmlns:") || key.contains(':') {
            // Declarations are resolved by the reader; prefixed attributes (xml:lang and
            // the like) carry nothing a DAV request needs.
            continue;
        }
        if !is_name(key) {
            return Err(XmlError::Malformed(format!(
                "{key:?} is not an XML attribute name"
            )));
        }
        if attrs.len() == limits.max_attributes {
            return Err(XmlError::TooManyAttributes(limits.max_attributes));
        }
        let value =
            attr.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                .map_err(|e| match e {
                    quick_xml::Error::Escape(
                        quick_xml::escape::EscapeError::UnrecognizedEntity(_, name),
                    ) => XmlError::Entity(name),
                    other => XmlError::Malformed(other.to_string()),
                })?;
        attrs.push((key.into(), value.into_owned()));
    }
    Ok(Element {
        name: Name::new(ns, local.as_ref()),
        attrs,
        children: Vec::new(),
    })
}

/// An XML NCName, approximately: names are echoed into responses (dead properties),
/// so nothing that could close a tag or start a reference may pass.
fn is_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_alphabetic() || c == '_')
        && chars.all(|c| c.is_alphanumeric() || matches!(c, '-' | '.' | '_' | '\u{b7}'))
}

fn attach(stack: &mut [Element], root: &mut Option<Element>, element: Element) {
    match stack.last_mut() {
        Some(parent) => parent.children.push(Node::Element(element)),
        None => *root = Some(element),
    }
}

fn push_text(stack: &mut [Element], text: &str) -> Result<(), XmlError> {
    let Some(parent) = stack.last_mut() else {
        if text.trim().is_empty() {
            return Ok(());
        }
        return Err(XmlError::Malformed("text outside the root element".into()));
    };
    if let Some(Node::Text(prev)) = parent.children.last_mut() {
        prev.push_str(text);
    } else {
        parent.children.push(Node::Text(text.to_string()));
    }
    Ok(())
}

/// Drops whitespace-only text nodes that sit beside elements (indentation).
pub(crate) fn strip_formatting(e: &mut Element) {
    let has_elements = e.children.iter().any(|n| matches!(n, Node::Element(_)));
    if has_elements {
        e.children
            .retain(|n| !matches!(n, Node::Text(t) if t.trim().is_empty()));
    }
    for n in &mut e.children {
        if let Node::Element(c) = n {
            strip_formatting(c);
        }
    }
}
