//! The address book REPORTs (RFC 6352 section 8): addressbook-multiget,
//! addressbook-query through the protocol core's card filters, and sync-collection.

use crate::report::Out;
use crate::resource::{self, Node, Resolved};
use calcard::vcard::VCard;
use imipd_dav::caldata::address_data;
use imipd_dav::filter::matches_card;
use imipd_dav::request::{AddressbookQuery, Multiget, SyncCollection};
use imipd_dav::{DavPath, PropName, PropSelection};
use imipd_store::{AddressBook, AddressBookError, Error, StoredCard};

fn parse(vcard: &str) -> Option<VCard> {
    match calcard::Parser::new(vcard).entry() {
        calcard::Entry::VCard(card) => Some(card),
        _ => None,
    }
}

impl Out<'_> {
    /// One card with the `address-data` the selection asks for.
    fn card(
        &mut self,
        book: &AddressBook,
        card: StoredCard,
        select: &PropSelection,
        parsed: Option<&VCard>,
    ) {
        let data = match &select.address_data {
            Some(req) if select.wants(&PropName::AddressData) && req.props.is_some() => {
                let own;
                let vcard = match parsed {
                    Some(c) => Some(c),
                    None => {
                        own = parse(&card.vcard);
                        own.as_ref()
                    }
                };
                vcard.map(|v| address_data(&card.vcard, v, req))
            }
            _ => None,
        };
        self.answer(&Node::Card(book.clone(), card), select, data);
    }

    pub fn card_multiget(&mut self, m: &Multiget) -> imipd_store::Result<()> {
        for href in &m.hrefs {
            let Ok(path) = DavPath::parse_href(href) else {
                self.ms.status_response(href, 400);
                continue;
            };
            match resource::resolve(self.dav, &path)? {
                Resolved::Found(Node::Card(b, c)) => self.card(&b, c, &m.select, None),
                _ => self.ms.status_response(path.as_str(), 404),
            }
        }
        Ok(())
    }

    pub fn card_query(
        &mut self,
        book: &AddressBook,
        q: &AddressbookQuery,
    ) -> imipd_store::Result<()> {
        // RFC 6352 section 8.6.1: at most `limit` cards, and a 507 for the address book
        // when more matched.
        let limit = q.limit.map_or(usize::MAX, |l| l as usize);
        let mut found = 0;
        for card in self.dav.store.cards(self.dav.user, &book.id)? {
            let Some(vcard) = parse(&card.vcard) else {
                continue;
            };
            if !matches_card(&q.filter, &vcard) {
                continue;
            }
            if found == limit {
                self.ms.truncated(
                    &resource::addressbook(self.dav.user, &book.id),
                    &format!("only {limit} of the matching cards, as the request's limit asks"),
                );
                break;
            }
            found += 1;
            self.card(book, card, &q.select, Some(&vcard));
        }
        Ok(())
    }

    pub fn card_sync(
        self,
        book: &AddressBook,
        s: &SyncCollection,
    ) -> imipd_store::Result<crate::Response> {
        let (dav, user) = (self.dav, self.dav.user);
        self.sync_changes(
            s,
            &resource::addressbook(user, &book.id),
            |token| match dav.store.card_changes(user, &book.id, token) {
                Err(Error::AddressBook(AddressBookError::InvalidSyncToken { .. })) => Ok(None),
                r => r.map(Some),
            },
            |out, href| {
                match dav.store.card(user, &book.id, href)? {
                    Some(c) => out.card(book, c, &s.select, None),
                    None => out
                        .ms
                        .status_response(&resource::card(user, &book.id, href), 404),
                }
                Ok(())
            },
            |href| resource::card(user, &book.id, href),
        )
    }
}
