//! GET, PUT and DELETE of vCards in address books, with strong ETags and the RFC 6352
//! preconditions of PUT. A card is stored as sent; its EMAILs are known senders from
//! the moment the PUT is answered.

use crate::object::{conditions, precondition_failed};
use crate::reply::Response;
use crate::resource::{self, Node, Resolved};
use crate::{Dav, Request};
use imipd_contacts::{Card, CardError};
use imipd_dav::Precondition;
use imipd_store::{AddressBook, AddressBookError, CardFound, Error, Expect, StoredCard, etag};

const VCARD_TYPE: &str = "text/vcard; charset=utf-8";

pub fn get(card: &StoredCard, with_body: bool) -> Response {
    let mut r = Response::new(200)
        .header("ETag", card.etag())
        .with_body(VCARD_TYPE, card.vcard.clone().into_bytes());
    if !with_body {
        r.headers.push(("Content-Length", r.body.len().to_string()));
        r.body.clear();
    }
    r
}

/// The current version's tag as conditions compare it (unquoted).
fn tag(card: Option<&StoredCard>) -> Option<String> {
    card.map(|c| c.modseq.to_string())
}

/// Why a card is refused, as the RFC 6352 precondition that says so.
fn refusal(e: &CardError) -> Precondition {
    match e {
        CardError::TooLarge { .. } => Precondition::CardMaxResourceSize,
        _ => Precondition::ValidAddressData,
    }
}

/// Content types a vCard arrives under: RFC 6350's, and the older ones clients
/// still send.
fn is_vcard_type(content_type: &str) -> bool {
    let ct = content_type.trim().to_ascii_lowercase();
    ["text/vcard", "text/x-vcard", "text/directory"]
        .iter()
        .any(|t| ct.starts_with(t))
}

pub fn put(
    dav: &Dav<'_>,
    book: &AddressBook,
    name: &str,
    current: Option<&StoredCard>,
    req: &Request,
) -> imipd_store::Result<Response> {
    let conds = match conditions(req) {
        Ok(c) => c,
        Err(r) => return Ok(r),
    };
    if let Some(ct) = req.header("content-type")
        && !is_vcard_type(ct)
    {
        return Ok(Response::precondition(
            &Precondition::SupportedAddressData,
            &format!("Content-Type {ct:?}: send text/vcard"),
        ));
    }
    if req.body.len() > dav.config.max_request_bytes {
        return Ok(Response::precondition(
            &Precondition::CardMaxResourceSize,
            &format!(
                "the vCard is {} bytes; the limit is {}",
                req.body.len(),
                dav.config.max_request_bytes
            ),
        ));
    }
    let Ok(text) = std::str::from_utf8(&req.body) else {
        return Ok(Response::precondition(
            &Precondition::ValidAddressData,
            "the vCard is not UTF-8",
        ));
    };
    let card = match Card::parse(text) {
        Ok(c) => c,
        Err(e) => return Ok(Response::precondition(&refusal(&e), &e.to_string())),
    };
    if !conds.hold(tag(current).as_deref(), None) {
        return Ok(precondition_failed());
    }
    let path = resource::card(dav.user, &book.id, name);
    if let Some(c) = current
        && c.uid != card.uid()
    {
        return Ok(Response::precondition(
            &Precondition::CardNoUidConflict { href: path },
            &format!(
                "this resource holds UID {:?}; a PUT cannot change it to {:?}",
                c.uid,
                card.uid()
            ),
        ));
    }
    let expect = current.map_or(Expect::MustNotExist, |c| Expect::Modseq(c.modseq));
    match dav.store.put_card(dav.user, &book.id, name, &card, expect) {
        Ok(modseq) => {
            let status = if current.is_some() { 204 } else { 201 };
            Ok(Response::new(status).header("ETag", etag(modseq)))
        }
        Err(Error::AddressBook(AddressBookError::Conflict(c))) => Ok(match c.found {
            CardFound::Uid { book_id, href } => Response::precondition(
                &Precondition::CardNoUidConflict {
                    href: resource::card(dav.user, &book_id, &href),
                },
                &format!("UID {:?} is stored at another resource already", card.uid()),
            ),
            CardFound::OtherUid(uid) => Response::precondition(
                &Precondition::CardNoUidConflict { href: path },
                &format!("this resource holds UID {uid:?} now"),
            ),
            CardFound::Nothing | CardFound::Version(_) => precondition_failed(),
        }),
        Err(Error::AddressBook(AddressBookError::InvalidHref(why))) => Ok(Response::text(
            409,
            format!("{}", AddressBookError::InvalidHref(why)),
        )),
        Err(Error::AddressBook(AddressBookError::Card(e))) => {
            Ok(Response::precondition(&refusal(&e), &e.to_string()))
        }
        Err(e) => Err(e),
    }
}

pub fn delete(
    dav: &Dav<'_>,
    book: &AddressBook,
    card: &StoredCard,
    req: &Request,
) -> imipd_store::Result<Response> {
    let conds = match conditions(req) {
        Ok(c) => c,
        Err(r) => return Ok(r),
    };
    if !conds.hold(tag(Some(card)).as_deref(), None) {
        return Ok(precondition_failed());
    }
    match dav
        .store
        .delete_card(dav.user, &book.id, &card.href, card.modseq)
    {
        Ok(()) => Ok(Response::new(204)),
        Err(Error::AddressBook(AddressBookError::Conflict(_))) => Ok(precondition_failed()),
        Err(e) => Err(e),
    }
}

/// The node a card write or read is about, when the path names a card or a free name
/// in an address book.
pub fn target(resolved: &Resolved) -> Option<(&AddressBook, &str, Option<&StoredCard>)> {
    match resolved {
        Resolved::Found(Node::Card(b, c)) => Some((b, &c.href, Some(c))),
        Resolved::NewCard(b, name) => Some((b, name, None)),
        _ => None,
    }
}
