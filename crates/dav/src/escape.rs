//! XML escaping for text and attribute values written into responses.

/// Appends `s` as XML character data: `&`, `<` and `>` escaped, and characters
/// XML 1.0 cannot carry (C0 controls other than tab, LF and CR) dropped, so a
/// value stored from anywhere can never make a response unparseable.
pub fn text_into(s: &str, out: &mut String) {
    escape(s, out, false)
}

/// Appends `s` as a double-quoted attribute value.
pub fn attr_into(s: &str, out: &mut String) {
    escape(s, out, true)
}

/// Bytes that text needs replaced (1) and that attribute values need in addition (2).
const SPECIAL: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut b = 0;
    while b < 0x20 {
        t[b] = 1;
        b += 1;
    }
    t[b'\t' as usize] = 2;
    t[b'\n' as usize] = 2;
    t[b'"' as usize] = 2;
    t[b'&' as usize] = 1;
    t[b'<' as usize] = 1;
    t[b'>' as usize] = 1;
    t
};

fn escape(s: &str, out: &mut String, attr: bool) {
    let limit = if attr { 2 } else { 1 };
    let bytes = s.as_bytes();
    let special = |b: &u8| {
        let k = SPECIAL[usize::from(*b)];
        k != 0 && k <= limit
    };
    // Most values (ETags, names, paths) need nothing: one scan, one copy.
    let Some(first) = bytes.iter().position(special) else {
        out.push_str(s);
        return;
    };
    out.push_str(&s[..first]);
    let mut start = first;
    for (i, b) in bytes.iter().enumerate().skip(first) {
        if !special(b) {
            continue;
        }
        let rep = match b {
            b'&' => "&amp;",
            b'<' => "&lt;",
            b'>' => "&gt;",
            b'"' => "&quot;",
            b'\r' => "&#13;",
            b'\n' => "&#10;",
            b'\t' => "&#9;",
            _ => "",
        };
        out.push_str(&s[start..i]);
        out.push_str(rep);
        start = i + 1;
    }
    out.push_str(&s[start..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_what_xml_needs_and_drops_what_it_cannot_carry() {
        let cases = [
            ("plain", "plain", "plain"),
            ("a&b<c>d", "a&amp;b&lt;c&gt;d", "a&amp;b&lt;c&gt;d"),
            ("say \"hi\"", "say \"hi\"", "say &quot;hi&quot;"),
            ("line\r\nnext", "line&#13;\nnext", "line&#13;&#10;next"),
            ("bell\u{7}nul\u{0}", "bellnul", "bellnul"),
            ("Työ – 日本", "Työ – 日本", "Työ – 日本"),
        ];
        for (input, text, attr) in cases {
            let mut t = String::new();
            text_into(input, &mut t);
            assert_eq!(t, text, "text of {input:?}");
            let mut a = String::new();
            attr_into(input, &mut a);
            assert_eq!(a, attr, "attribute of {input:?}");
        }
    }
}
