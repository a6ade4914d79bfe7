//! Email address parsing as Go's `net/mail.ParseAddress` does it, for `emailAddresses`.
//!
//! cert-manager accepts a value when `ParseAddress` succeeds and the parsed address equals the
//! input. This port covers addr-spec (dot-atom or quoted local part; dot-atom or
//! domain-literal domain), `Name <addr>` forms and groups, with Go's error texts. Not ported:
//! RFC 2047 encoded words and parenthesised comments (inputs using them are rejected here as
//! they are in cert-manager, only possibly with a different reason).

use crate::field::go_quote;

/// Parses a single address; `Ok` carries the bare address (`local@domain`).
pub(crate) fn parse_address(input: &str) -> Result<String, String> {
    let mut p = Parser { s: input };
    let addr = p.parse_address()?;
    p.skip_space();
    if !p.s.is_empty() {
        return Err(format!(
            "mail: expected single address, got {}",
            go_quote(p.s)
        ));
    }
    Ok(addr)
}

struct Parser<'a> {
    s: &'a str,
}

fn is_vchar(c: char) -> bool {
    ('!'..='~').contains(&c) || !c.is_ascii()
}

fn is_atext(c: char, dot: bool) -> bool {
    match c {
        '.' => dot,
        '(' | ')' | '<' | '>' | '[' | ']' | ':' | ';' | '@' | '\\' | ',' | '"' => false,
        c => is_vchar(c),
    }
}

fn is_qtext(c: char) -> bool {
    c != '\\' && c != '"' && is_vchar(c)
}

fn is_wsp(c: char) -> bool {
    c == ' ' || c == '\t'
}

/// Go's `%q` of a rune.
fn quote_rune(c: char) -> String {
    match c {
        '\'' => "'\\''".to_owned(),
        '\\' => "'\\\\'".to_owned(),
        c if c.is_control() => format!("'\\x{:02x}'", c as u32),
        c => format!("'{c}'"),
    }
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<char> {
        self.s.chars().next()
    }

    fn consume(&mut self, c: char) -> bool {
        if self.peek() == Some(c) {
            self.s = &self.s[c.len_utf8()..];
            true
        } else {
            false
        }
    }

    fn skip_space(&mut self) {
        self.s = self.s.trim_start_matches([' ', '\t']);
    }

    fn parse_address(&mut self) -> Result<String, String> {
        self.skip_space();
        if self.s.is_empty() {
            return Err("mail: no address".into());
        }
        // addr-spec is the stricter grammar, so try it first.
        let saved = self.s;
        match self.consume_addr_spec() {
            Ok(spec) => return Ok(spec),
            Err(_) => self.s = saved,
        }
        let mut display_name = String::new();
        if self.peek() != Some('<') {
            display_name = self.consume_phrase()?;
        }
        self.skip_space();
        if self.consume(':') {
            // A group: whatever it holds, the result is not the plain input.
            let rest = self.s.trim();
            self.s = "";
            if rest == ";" {
                return Err("mail: empty group".into());
            }
            return Ok(String::new());
        }
        if !self.consume('<') {
            if display_name.chars().all(|c| is_atext(c, true)) {
                return Err("mail: missing '@' or angle-addr".into());
            }
            return Err("mail: no angle-addr".into());
        }
        let spec = self.consume_addr_spec()?;
        if !self.consume('>') {
            return Err("mail: unclosed angle-addr".into());
        }
        Ok(spec)
    }

    fn consume_addr_spec(&mut self) -> Result<String, String> {
        self.skip_space();
        if self.s.is_empty() {
            return Err("mail: no addr-spec".into());
        }
        let local = if self.peek() == Some('"') {
            let q = self.consume_quoted_string()?;
            if q.is_empty() {
                return Err("mail: empty quoted-string in addr-spec".into());
            }
            q
        } else {
            self.consume_atom(true, false)?
        };
        if !self.consume('@') {
            return Err("mail: missing @ in addr-spec".into());
        }
        self.skip_space();
        if self.s.is_empty() {
            return Err("mail: no domain in addr-spec".into());
        }
        let domain = if self.peek() == Some('[') {
            self.consume_domain_literal()?
        } else {
            self.consume_atom(true, false)?
        };
        Ok(format!("{local}@{domain}"))
    }

    fn consume_atom(&mut self, dot: bool, permissive: bool) -> Result<String, String> {
        let end = self
            .s
            .char_indices()
            .find(|&(_, c)| !is_atext(c, dot))
            .map_or(self.s.len(), |(i, _)| i);
        if end == 0 {
            return Err("mail: invalid string".into());
        }
        let atom = &self.s[..end];
        self.s = &self.s[end..];
        if !permissive {
            if atom.starts_with('.') {
                return Err("mail: leading dot in atom".into());
            }
            if atom.contains("..") {
                return Err("mail: double dot in atom".into());
            }
            if atom.ends_with('.') {
                return Err("mail: trailing dot in atom".into());
            }
        }
        Ok(atom.to_owned())
    }

    fn consume_quoted_string(&mut self) -> Result<String, String> {
        let mut out = String::new();
        let mut escaped = false;
        let mut chars = self.s.char_indices().skip(1);
        loop {
            let Some((i, c)) = chars.next() else {
                return Err("mail: unclosed quoted-string".into());
            };
            if escaped {
                if !is_vchar(c) && !is_wsp(c) {
                    return Err(format!(
                        "mail: bad character in quoted-string: {}",
                        quote_rune(c)
                    ));
                }
                out.push(c);
                escaped = false;
            } else if is_qtext(c) || is_wsp(c) {
                out.push(c);
            } else if c == '"' {
                self.s = &self.s[i + 1..];
                return Ok(out);
            } else if c == '\\' {
                escaped = true;
            } else {
                return Err(format!(
                    "mail: bad character in quoted-string: {}",
                    quote_rune(c)
                ));
            }
        }
    }

    fn consume_phrase(&mut self) -> Result<String, String> {
        let mut words = Vec::new();
        let mut last_err = None;
        loop {
            self.skip_space();
            if self.s.is_empty() {
                break;
            }
            let word = if self.peek() == Some('"') {
                self.consume_quoted_string()
            } else {
                self.consume_atom(true, true)
            };
            match word {
                Ok(w) => words.push(w),
                Err(e) => {
                    last_err = Some(e);
                    break;
                }
            }
        }
        match last_err {
            Some(e) if words.is_empty() => Err(format!("mail: missing word in phrase: {e}")),
            _ => Ok(words.join(" ")),
        }
    }

    fn consume_domain_literal(&mut self) -> Result<String, String> {
        if !self.consume('[') {
            return Err("mail: missing \"[\" in domain-literal".into());
        }
        let start = self.s;
        let mut len = 0;
        loop {
            match self.s[len..].chars().next() {
                None => return Err("mail: unclosed domain-literal".into()),
                Some(']') => break,
                Some(c) if c == '[' || c == '\\' || !is_vchar(c) => {
                    return Err(format!(
                        "mail: bad character in domain-literal: {}",
                        quote_rune(c)
                    ));
                }
                Some(c) => len += c.len_utf8(),
            }
        }
        let dtext = &start[..len];
        self.s = &self.s[len + 1..];
        if !super::net::is_ip(dtext) {
            return Err(format!(
                "mail: invalid IP address in domain-literal: {}",
                go_quote(dtext)
            ));
        }
        Ok(format!("[{dtext}]"))
    }
}

#[cfg(test)]
mod tests {
    use super::parse_address;

    #[test]
    fn accepts_plain_addresses() {
        for a in [
            "a@example.com",
            "first.last+tag@sub.example.org",
            "x@[192.0.2.1]",
        ] {
            assert_eq!(parse_address(a).as_deref(), Ok(a), "{a}");
        }
    }

    #[test]
    fn reports_go_errors() {
        let cases = [
            ("", "mail: no address"),
            ("foo", "mail: missing '@' or angle-addr"),
            ("foo bar", "mail: no angle-addr"),
            ("a@b@c", "mail: expected single address, got \"@c\""),
            (
                "@example.com",
                "mail: missing word in phrase: mail: invalid string",
            ),
            ("a@[1.2.3]", "mail: missing '@' or angle-addr"),
        ];
        for (input, want) in cases {
            assert_eq!(parse_address(input), Err(want.to_owned()), "{input}");
        }
    }

    #[test]
    fn name_addr_parses_to_the_bare_address() {
        assert_eq!(
            parse_address("Jane <jane@example.com>").as_deref(),
            Ok("jane@example.com")
        );
        assert_eq!(parse_address(" a@b.c").as_deref(), Ok("a@b.c"));
    }
}
