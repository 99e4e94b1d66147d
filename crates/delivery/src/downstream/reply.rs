//! Reading the downstream server's replies: "250-..." lines continue, "250 ..." ends a
//! reply; an enhanced status code (RFC 2034) at the start of the text is taken apart.

use imipd_lmtp::Reply;
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncReadExt};

/// Longest reply line read; RFC 5321 section 4.5.3.1.5 allows 512, servers send more.
const MAX_LINE: u64 = 4096;
/// Most lines in one reply (an LHLO reply lists one capability a line).
const MAX_LINES: usize = 100;

/// One line of a reply: code, whether it is the last line, and its text.
pub fn parse_line(line: &[u8]) -> Result<(u16, bool, &str), String> {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let text = std::str::from_utf8(line)
        .map_err(|_| format!("reply line is not UTF-8: {}", String::from_utf8_lossy(line)))?;
    let malformed = || format!("malformed reply line {text:?}");
    let digits = text.get(..3).ok_or_else(malformed)?;
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(malformed());
    }
    let code: u16 = digits.parse().map_err(|_| malformed())?;
    if !(200..=599).contains(&code) {
        return Err(malformed());
    }
    match text.as_bytes().get(3) {
        None => Ok((code, true, "")),
        Some(b' ') => Ok((code, true, &text[4..])),
        Some(b'-') => Ok((code, false, &text[4..])),
        Some(_) => Err(malformed()),
    }
}

/// Splits "2.1.5 text" into the status code and the text; `None` without one.
fn split_status(text: &str) -> Option<((u8, u16, u16), &str)> {
    let (status, rest) = text.split_once(' ').unwrap_or((text, ""));
    let mut parts = status.split('.');
    let class = parts.next()?.parse::<u8>().ok()?;
    let subject = parts.next()?.parse::<u16>().ok()?;
    let detail = parts.next()?.parse::<u16>().ok()?;
    if parts.next().is_some() || !matches!(class, 2 | 4 | 5) {
        return None;
    }
    Some(((class, subject, detail), rest))
}

/// A reply from its lines, which all carry `code`.
pub fn build(code: u16, lines: &[&str]) -> Reply {
    let status = lines
        .first()
        .and_then(|l| split_status(l))
        .map(|(status, _)| status)
        .filter(|status| u16::from(status.0) == code / 100);
    let text: Vec<&str> = lines
        .iter()
        .map(|line| match (status, split_status(line)) {
            (Some(s), Some((t, rest))) if s == t => rest,
            _ => line,
        })
        .collect();
    // Without an enhanced code of its own the reply still gets one, as the client of this
    // server was promised ENHANCEDSTATUSCODES.
    let status = status.unwrap_or(((code / 100) as u8, 0, 0));
    Reply::new(code, status, text.join("\n"))
}

/// Reads one complete reply.
pub async fn read_reply<R: AsyncBufRead + Unpin>(reader: &mut R) -> Result<Reply, String> {
    let mut code = None;
    let mut texts: Vec<String> = Vec::new();
    let mut line = Vec::new();
    while texts.len() < MAX_LINES {
        line.clear();
        let read = (&mut *reader)
            .take(MAX_LINE)
            .read_until(b'\n', &mut line)
            .await
            .map_err(|e| format!("read failed: {e}"))?;
        if read == 0 {
            return Err("connection closed by the server".into());
        }
        if line.last() != Some(&b'\n') {
            return Err(format!("reply line longer than {MAX_LINE} bytes"));
        }
        let (line_code, last, text) = parse_line(&line)?;
        if *code.get_or_insert(line_code) != line_code {
            return Err(format!(
                "reply mixes codes {} and {line_code}",
                code.unwrap_or(0)
            ));
        }
        texts.push(text.to_owned());
        if last {
            let lines: Vec<&str> = texts.iter().map(String::as_str).collect();
            return Ok(build(line_code, &lines));
        }
    }
    Err(format!("reply longer than {MAX_LINES} lines"))
}

#[cfg(test)]
mod tests {
    use super::*;

    type Line<'a> = (u16, bool, &'a str);
    type Status = (u8, u16, u16);

    #[test]
    fn lines() {
        let cases: &[(&str, Result<Line, ()>)] = &[
            ("250 2.1.5 ok\r\n", Ok((250, true, "2.1.5 ok"))),
            ("250-PIPELINING\r\n", Ok((250, false, "PIPELINING"))),
            ("354\r\n", Ok((354, true, ""))),
            ("220 mx\n", Ok((220, true, "mx"))),
            ("25 x\r\n", Err(())),
            ("abc x\r\n", Err(())),
            ("250x\r\n", Err(())),
            ("150 old\r\n", Err(())),
            ("", Err(())),
        ];
        for &(line, expected) in cases {
            assert_eq!(
                parse_line(line.as_bytes()).map_err(|_| ()),
                expected,
                "{line:?}"
            );
        }
    }

    #[test]
    fn replies() {
        // (wire, code, status, text)
        let cases: &[(&str, u16, Status, &str)] = &[
            ("250 2.1.5 ok\r\n", 250, (2, 1, 5), "ok"),
            (
                "550 5.1.1 <x@y> unknown\r\n",
                550,
                (5, 1, 1),
                "<x@y> unknown",
            ),
            ("451 try later\r\n", 451, (4, 0, 0), "try later"),
            (
                "452 2.0.0 mismatched class\r\n",
                452,
                (4, 0, 0),
                "2.0.0 mismatched class",
            ),
            (
                "250-mx\r\n250-PIPELINING\r\n250 SIZE 10\r\n",
                250,
                (2, 0, 0),
                "mx\nPIPELINING\nSIZE 10",
            ),
            (
                "550-5.7.1 no\r\n550 5.7.1 really\r\n",
                550,
                (5, 7, 1),
                "no\nreally",
            ),
        ];
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        for &(wire, code, status, text) in cases {
            let mut input = wire.as_bytes();
            let reply = runtime.block_on(read_reply(&mut input)).unwrap();
            assert_eq!(reply, Reply::new(code, status, text), "{wire:?}");
        }
        for bad in [
            "250-a\r\n251 b\r\n",
            "250-unfinished\r\n",
            "nonsense\r\n",
            "",
        ] {
            let mut input = bad.as_bytes();
            assert!(runtime.block_on(read_reply(&mut input)).is_err(), "{bad:?}");
        }
    }
}
