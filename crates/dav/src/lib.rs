//! The CalDAV / CardDAV / WebDAV protocol core of imipd, without I/O: request bodies
//! parsed into typed values, responses rendered into bytes, hrefs in one canonical
//! spelling, conditional headers, and the evaluation of calendar-query and
//! addressbook-query filters against parsed objects. The HTTP layer maps a request to
//! these functions and to store calls; nothing here touches a socket or the store.
//!
//! RFCs: 4918 (WebDAV subset), 4791 (CalDAV), 6352 (CardDAV), 6578 (sync),
//! 5689 (extended MKCOL), 5397 (current-user-principal), 6764 (well-known),
//! 8144 (Prefer), 3253 / 3744 (the REPORTs clients send to principals).

pub mod caldata;
pub mod discovery;
pub mod error;
pub mod escape;
pub mod filter;
pub mod freebusy;
pub mod headers;
pub mod href;
pub mod name;
pub mod propfind;
pub mod query;
pub mod request;
pub mod response;
pub mod schedule;
pub mod time;
pub mod xml;

pub use error::{Precondition, Privilege};
pub use href::{DavPath, HrefError};
pub use name::{Name, Ns, PropName};
pub use request::{PropRequest, PropSelection, Report};
pub use response::{Multistatus, Xml};
pub use xml::{
    RequestError, parse_mkcalendar, parse_mkcol, parse_propfind, parse_proppatch, parse_report,
};
