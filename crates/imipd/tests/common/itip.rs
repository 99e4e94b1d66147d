//! iTIP mail for end-to-end tests, built per case so each test names what it varies.

pub struct Mail<'a> {
    pub method: &'a str,
    pub uid: &'a str,
    pub sequence: u32,
    pub from: &'a str,
    /// The Authentication-Results authserv-id and DMARC result; `None`: no such header.
    pub auth: Option<(&'a str, &'a str)>,
    pub spam: bool,
    pub status: &'a str,
    /// The Subject; `None`: "METHOD UID".
    pub subject: Option<&'a str>,
}

impl<'a> Mail<'a> {
    pub fn request(uid: &'a str) -> Self {
        Mail {
            method: "REQUEST",
            uid,
            sequence: 0,
            from: "alice@example.org",
            auth: Some(("mx.test", "pass")),
            spam: false,
            status: "CONFIRMED",
            subject: None,
        }
    }

    pub fn cancel(uid: &'a str, sequence: u32) -> Self {
        Mail {
            method: "CANCEL",
            sequence,
            status: "CANCELLED",
            ..Self::request(uid)
        }
    }

    pub fn bytes(&self) -> Vec<u8> {
        let mut head = String::new();
        if let Some((id, result)) = self.auth {
            head.push_str(&format!(
                "Authentication-Results: {id}; dmarc={result} header.from=example.org\r\n"
            ));
        }
        if self.spam {
            head.push_str("X-Spam-Flag: YES\r\n");
        }
        let (uid, seq, from, method, status) =
            (self.uid, self.sequence, self.from, self.method, self.status);
        let subject = self
            .subject
            .map_or_else(|| format!("{method} {uid}"), str::to_string);
        format!(
            "{head}From: Organizer <{from}>\r\nTo: bob@example.org\r\nSubject: {subject}\r\n\
             Message-ID: <{uid}.{seq}.{method}@example.org>\r\nMIME-Version: 1.0\r\n\
             Content-Type: multipart/alternative; boundary=\"b\"\r\n\r\n\
             --b\r\nContent-Type: text/plain\r\n\r\nSee the invitation.\r\n\
             --b\r\nContent-Type: text/calendar; charset=utf-8; method={method}\r\n\r\n\
             BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Example//Test//EN\r\nMETHOD:{method}\r\n\
             BEGIN:VEVENT\r\nUID:{uid}\r\nSEQUENCE:{seq}\r\nDTSTAMP:2030010{d}T090000Z\r\n\
             DTSTART:20300105T100000Z\r\nDTEND:20300105T110000Z\r\nSUMMARY:Planning {seq}\r\n\
             STATUS:{status}\r\nORGANIZER;CN=Organizer:mailto:{from}\r\n\
             ATTENDEE;CN=Organizer;PARTSTAT=ACCEPTED:mailto:{from}\r\n\
             ATTENDEE;CN=Bob;RSVP=TRUE;PARTSTAT=NEEDS-ACTION:mailto:bob@example.org\r\n\
             END:VEVENT\r\nEND:VCALENDAR\r\n--b--\r\n",
            d = 1 + seq.min(8),
        )
        .into_bytes()
    }
}
