//! Percent-encoding (RFC 5849 §3.6) and `application/x-www-form-urlencoded`
//! decoding.

use crate::error::EncodingError;

/// Which bytes RFC 5849 §3.6 leaves as they are: the RFC 3986 §2.3
/// unreserved characters `A–Z a–z 0–9 - . _ ~`.
const UNRESERVED: [bool; 256] = {
    let mut table = [false; 256];
    let mut byte = 0;
    while byte < 256 {
        let b = byte as u8;
        table[byte] = b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~');
        byte += 1;
    }
    table
};

const HEX_UPPER: &[u8; 16] = b"0123456789ABCDEF";

fn is_unreserved(byte: u8) -> bool {
    UNRESERVED[usize::from(byte)]
}

/// Percent-encodes text as RFC 5849 §3.6 requires.
///
/// The text is taken as UTF-8; every byte other than `A–Z a–z 0–9 - . _ ~` is
/// written as `%XX` with upper-case hex digits. Spaces become `%20`, never
/// `+`.
///
/// ```
/// assert_eq!(lti_oauth::percent_encode("Ladies + Gentlemen"), "Ladies%20%2B%20Gentlemen");
/// assert_eq!(lti_oauth::percent_encode("Zoë"), "Zo%C3%AB");
/// ```
#[must_use]
pub fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 2);
    percent_encode_into(&mut out, text);
    out
}

/// Appends the RFC 5849 §3.6 encoding of `text` to `out`.
pub(crate) fn percent_encode_into(out: &mut String, text: &str) {
    encode_into(out, text, "%");
}

/// Appends `enc(enc(text))`: each unreserved byte as it is, each other
/// byte as `%25XX`. This is how a parameter appears inside a signature
/// base string (RFC 5849 §3.4.1.1 encodes the already encoded pairs), made
/// in one pass.
pub(crate) fn double_percent_encode_into(out: &mut String, text: &str) {
    encode_into(out, text, "%25");
}

/// Copies runs of unreserved bytes and writes every other byte as
/// `escape_prefix` and two upper-case hex digits.
fn encode_into(out: &mut String, text: &str, escape_prefix: &str) {
    let mut run_start = 0;
    for (i, &byte) in text.as_bytes().iter().enumerate() {
        if is_unreserved(byte) {
            continue;
        }
        // A non-empty run is unreserved ASCII, so both of its ends are char
        // boundaries. (An empty run may start inside a multi-byte
        // character, which is why it is skipped rather than sliced.)
        if run_start < i {
            out.push_str(text.get(run_start..i).unwrap_or_default());
        }
        out.push_str(escape_prefix);
        out.push(char::from(HEX_UPPER[usize::from(byte >> 4)]));
        out.push(char::from(HEX_UPPER[usize::from(byte & 0x0f)]));
        run_start = i + 1;
    }
    out.push_str(text.get(run_start..).unwrap_or_default());
}

/// The order of two texts' RFC 5849 §3.6 encodings (bytewise), computed
/// from the texts themselves.
///
/// Encoding maps each byte to a token (itself, or `%XX`), and equal bytes
/// to equal tokens, so the encodings first differ at the token of the
/// first differing byte. Two unreserved bytes compare as themselves; two
/// escapes compare by their hex digits, i.e. by byte value; an unreserved
/// byte against an escape compares with `%`. A shorter text that is a
/// prefix of the other sorts first, as its encoding does.
pub(crate) fn cmp_encoded(a: &str, b: &str) -> std::cmp::Ordering {
    let sort_key = |byte: u8| {
        if is_unreserved(byte) {
            (byte, 0)
        } else {
            (b'%', byte)
        }
    };
    let (a, b) = (a.as_bytes(), b.as_bytes());
    match a.iter().zip(b).find(|(x, y)| x != y) {
        Some((&x, &y)) => sort_key(x).cmp(&sort_key(y)),
        None => a.len().cmp(&b.len()),
    }
}

/// Decodes percent-encoded text strictly: `%` must be followed by two hex
/// digits, `+` stays a plus sign, and the result must be UTF-8.
///
/// This is the decoding for `Authorization` header values (RFC 5849 §3.5.1).
///
/// # Errors
///
/// [`EncodingError::InvalidPercentEscape`] for a bad escape (with its byte
/// offset), [`EncodingError::InvalidUtf8`] when the bytes are not UTF-8.
pub fn percent_decode(text: &str) -> Result<String, EncodingError> {
    let mut decoded = Vec::with_capacity(text.len());
    decode_into(&mut decoded, text, 0, false, true)?;
    String::from_utf8(decoded).map_err(|_| EncodingError::InvalidUtf8)
}

/// Decodes an `application/x-www-form-urlencoded` body or query string into
/// name/value pairs, in order, duplicates kept.
///
/// Pairs are separated by `&`; empty pairs (`a=1&&b=2`, a trailing `&`) are
/// skipped; a pair without `=` has an empty value; `+` means a space. Unlike
/// lenient decoders, a `%` not followed by two hex digits is an error rather
/// than kept literally, because a signature computed over a guessed
/// decoding would only fail later with a less useful message.
///
/// ```
/// let pairs = lti_oauth::form_decode(b"a=1&b=x+y%21&c").unwrap();
/// assert_eq!(pairs, [("a".into(), "1".into()), ("b".into(), "x y!".into()), ("c".into(), String::new())]);
/// ```
///
/// # Errors
///
/// [`EncodingError::InvalidPercentEscape`] with the byte offset of the bad
/// `%`, or [`EncodingError::InvalidUtf8`].
pub fn form_decode(input: &[u8]) -> Result<Vec<(String, String)>, EncodingError> {
    let mut pairs = Vec::new();
    form_decode_each(input, |mut name, name_len| {
        let value = name.split_off(name_len);
        pairs.push((name, value));
    })?;
    Ok(pairs)
}

/// [`form_decode`], handing each pair to `sink` as one string holding the
/// name and then the value, and the length of the name (a char boundary).
///
/// One pass over the input finds the separators and whether a piece needs
/// decoding at all, and each pair costs one allocation: this runs on every
/// launch.
pub(crate) fn form_decode_each(
    input: &[u8],
    mut sink: impl FnMut(String, usize),
) -> Result<(), EncodingError> {
    // Checked once for the whole input: `&` and `=` are ASCII, so every
    // piece between them is UTF-8 too, and only decoded escapes need a
    // second look.
    let text = std::str::from_utf8(input).map_err(|_| EncodingError::InvalidUtf8)?;
    let mut pair = PairScan::new(0);
    for (index, &byte) in text.as_bytes().iter().enumerate() {
        if !FORM_SPECIAL[usize::from(byte)] {
            continue;
        }
        match byte {
            b'&' => {
                pair.emit(text, index, &mut sink)?;
                pair = PairScan::new(index + 1);
            }
            b'=' if pair.equals.is_none() => pair.equals = Some(index),
            _ if pair.equals.is_none() => pair.name_escaped = true,
            _ => pair.value_escaped = true,
        }
    }
    pair.emit(text, text.len(), &mut sink)
}

/// The bytes [`form_decode_each`] stops at.
const FORM_SPECIAL: [bool; 256] = {
    let mut table = [false; 256];
    table[b'&' as usize] = true;
    table[b'=' as usize] = true;
    table[b'%' as usize] = true;
    table[b'+' as usize] = true;
    table
};

/// What [`form_decode_each`] knows about the pair it is scanning.
struct PairScan {
    start: usize,
    equals: Option<usize>,
    name_escaped: bool,
    value_escaped: bool,
}

impl PairScan {
    fn new(start: usize) -> Self {
        PairScan {
            start,
            equals: None,
            name_escaped: false,
            value_escaped: false,
        }
    }

    /// Decodes the pair ending at `end` (empty pairs are skipped).
    fn emit(
        &self,
        text: &str,
        end: usize,
        sink: &mut impl FnMut(String, usize),
    ) -> Result<(), EncodingError> {
        if end <= self.start {
            return Ok(());
        }
        let name_end = self.equals.unwrap_or(end);
        let value_start = (name_end + 1).min(end);
        // Every offset is at an ASCII delimiter or the end: char boundaries.
        let name = text.get(self.start..name_end).unwrap_or_default();
        let value = text.get(value_start..end).unwrap_or_default();
        if !(self.name_escaped || self.value_escaped) {
            // Nothing to decode, and the text is UTF-8 already.
            let mut joined = String::with_capacity(name.len() + value.len());
            joined.push_str(name);
            joined.push_str(value);
            sink(joined, name.len());
            return Ok(());
        }
        let mut decoded = Vec::with_capacity(name.len() + value.len());
        decode_into(&mut decoded, name, self.start, true, self.name_escaped)?;
        let name_len = decoded.len();
        decode_into(&mut decoded, value, value_start, true, self.value_escaped)?;
        let decoded = String::from_utf8(decoded).map_err(|_| EncodingError::InvalidUtf8)?;
        // Each half must be UTF-8 on its own, not just together.
        if !decoded.is_char_boundary(name_len) {
            return Err(EncodingError::InvalidUtf8);
        }
        sink(decoded, name_len);
        Ok(())
    }
}

/// Encodes name/value pairs as an `application/x-www-form-urlencoded` body,
/// using RFC 5849 §3.6 encoding (so spaces are `%20`, which every form
/// decoder accepts).
///
/// ```
/// assert_eq!(lti_oauth::form_encode(&[("a b", "c&d"), ("e", "")]), "a%20b=c%26d&e=");
/// ```
#[must_use]
pub fn form_encode<K, V>(pairs: &[(K, V)]) -> String
where
    K: AsRef<str>,
    V: AsRef<str>,
{
    let mut out = String::new();
    for (name, value) in pairs {
        if !out.is_empty() {
            out.push('&');
        }
        percent_encode_into(&mut out, name.as_ref());
        out.push('=');
        percent_encode_into(&mut out, value.as_ref());
    }
    out
}

fn hex_value(byte: u8) -> Option<u8> {
    match byte {
        b'0'..=b'9' => Some(byte - b'0'),
        b'a'..=b'f' => Some(byte - b'a' + 10),
        b'A'..=b'F' => Some(byte - b'A' + 10),
        _ => None,
    }
}

/// Appends the decoding of one name or value to `out`; `offset` is where
/// `input` starts in the whole text, for error messages. `escaped` says
/// whether `input` holds a `%` or `+` at all (the caller has looked
/// already). The caller checks that the result is UTF-8.
fn decode_into(
    out: &mut Vec<u8>,
    input: &str,
    offset: usize,
    plus_is_space: bool,
    escaped: bool,
) -> Result<(), EncodingError> {
    let bytes = input.as_bytes();
    if !escaped {
        out.extend_from_slice(bytes);
        return Ok(());
    }
    let mut run_start = 0;
    let mut i = 0;
    while let Some(&byte) = bytes.get(i) {
        let decoded = match byte {
            b'%' => {
                let high = bytes.get(i + 1).copied().and_then(hex_value);
                let low = bytes.get(i + 2).copied().and_then(hex_value);
                let (Some(high), Some(low)) = (high, low) else {
                    return Err(EncodingError::InvalidPercentEscape { offset: offset + i });
                };
                (high << 4) | low
            }
            b'+' if plus_is_space => b' ',
            _ => {
                i += 1;
                continue;
            }
        };
        out.extend_from_slice(bytes.get(run_start..i).unwrap_or_default());
        out.push(decoded);
        i += if byte == b'%' { 3 } else { 1 };
        run_start = i;
    }
    out.extend_from_slice(bytes.get(run_start..).unwrap_or_default());
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|&(n, v)| (n.to_owned(), v.to_owned()))
            .collect()
    }

    #[test]
    fn rfc5849_section_3_6_and_3_4_1_3_2_examples() {
        // The examples of RFC 5849 §3.4.1.3.2 (the normalisation table).
        assert_eq!(
            percent_encode("Ladies + Gentlemen"),
            "Ladies%20%2B%20Gentlemen"
        );
        assert_eq!(
            percent_encode("An encoded string!"),
            "An%20encoded%20string%21"
        );
        assert_eq!(
            percent_encode("Dogs, Cats & Mice"),
            "Dogs%2C%20Cats%20%26%20Mice"
        );
        assert_eq!(percent_encode("☃"), "%E2%98%83");
        assert_eq!(percent_encode("a2=r b"), "a2%3Dr%20b");
        assert_eq!(percent_encode("c@"), "c%40");
        assert_eq!(percent_encode(""), "");
    }

    #[test]
    fn every_ascii_byte_is_kept_or_escaped_in_upper_case() {
        for byte in 0..=127u8 {
            let text = char::from(byte).to_string();
            let expected = if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
                text.clone()
            } else {
                format!("%{byte:02X}")
            };
            assert_eq!(percent_encode(&text), expected);
        }
    }

    #[test]
    fn unreserved_characters_are_kept_and_reserved_ones_encoded() {
        let unreserved = "ABCXYZabcxyz0189-._~";
        assert_eq!(percent_encode(unreserved), unreserved);
        // RFC 3986 gen-delims and sub-delims, plus other ASCII punctuation.
        assert_eq!(
            percent_encode(":/?#[]@!$&'()*+,;= %\"<>\\^`{|}"),
            "%3A%2F%3F%23%5B%5D%40%21%24%26%27%28%29%2A%2B%2C%3B%3D%20%25%22%3C%3E%5C%5E%60%7B%7C%7D"
        );
        assert_eq!(percent_encode("\u{0}\u{7f}"), "%00%7F");
    }

    #[test]
    fn multibyte_utf8_is_encoded_byte_by_byte_in_upper_case() {
        assert_eq!(percent_encode("Zoë"), "Zo%C3%AB");
        assert_eq!(percent_encode("李"), "%E6%9D%8E");
        assert_eq!(percent_encode("😀"), "%F0%9F%98%80");
        assert_eq!(percent_encode("aé😀b"), "a%C3%A9%F0%9F%98%80b");
    }

    #[test]
    fn double_encoding_encodes_the_encoding() {
        for text in ["", "abc", "a b", "%", "Zoë & 😀", "~-._", "a=b&c"] {
            let mut once = String::new();
            double_percent_encode_into(&mut once, text);
            assert_eq!(once, percent_encode(&percent_encode(text)), "{text}");
        }
    }

    proptest::proptest! {
        #[test]
        fn cmp_encoded_is_the_order_of_the_encodings(a in ".{0,6}", b in ".{0,6}") {
            proptest::prop_assert_eq!(
                cmp_encoded(&a, &b),
                percent_encode(&a).cmp(&percent_encode(&b))
            );
        }

        #[test]
        fn cmp_encoded_on_tricky_ascii(a in "[ -~]{0,4}", b in "[ -~]{0,4}") {
            proptest::prop_assert_eq!(
                cmp_encoded(&a, &b),
                percent_encode(&a).cmp(&percent_encode(&b))
            );
        }
    }

    #[test]
    fn percent_decode_is_strict_and_keeps_plus() {
        assert_eq!(percent_decode("a%20b+c").as_deref(), Ok("a b+c"));
        assert_eq!(percent_decode("%e2%98%83").as_deref(), Ok("☃"));
        assert_eq!(
            percent_decode("ab%2"),
            Err(EncodingError::InvalidPercentEscape { offset: 2 })
        );
        assert_eq!(
            percent_decode("%zz"),
            Err(EncodingError::InvalidPercentEscape { offset: 0 })
        );
        assert_eq!(percent_decode("%FF"), Err(EncodingError::InvalidUtf8));
    }

    #[test]
    fn form_decode_handles_plus_missing_equals_and_empty_pairs() {
        assert_eq!(
            form_decode(b"a=1&&b=x+y&c&=v&d=&e==").unwrap(),
            pairs(&[
                ("a", "1"),
                ("b", "x y"),
                ("c", ""),
                ("", "v"),
                ("d", ""),
                ("e", "=")
            ])
        );
        assert_eq!(form_decode(b"").unwrap(), pairs(&[]));
        assert_eq!(form_decode(b"&&&").unwrap(), pairs(&[]));
        assert_eq!(
            form_decode(b"a%2Bb=c%26d").unwrap(),
            pairs(&[("a+b", "c&d")])
        );
        // Raw UTF-8 is accepted as it is.
        assert_eq!(
            form_decode("n=Zoë".as_bytes()).unwrap(),
            pairs(&[("n", "Zoë")])
        );
    }

    #[test]
    fn form_decode_reports_the_offset_of_a_bad_escape() {
        assert_eq!(
            form_decode(b"a=1&b=%G1"),
            Err(EncodingError::InvalidPercentEscape { offset: 6 })
        );
        assert_eq!(
            form_decode(b"a=1&b%=1"),
            Err(EncodingError::InvalidPercentEscape { offset: 5 })
        );
        assert_eq!(
            form_decode(b"a=%"),
            Err(EncodingError::InvalidPercentEscape { offset: 2 })
        );
    }

    #[test]
    fn form_decode_rejects_invalid_utf8() {
        assert_eq!(form_decode(b"a=%C3%28"), Err(EncodingError::InvalidUtf8));
        assert_eq!(form_decode(b"a=\xff"), Err(EncodingError::InvalidUtf8));
        assert_eq!(form_decode(b"\xc3=1"), Err(EncodingError::InvalidUtf8));
        // Valid only when name and value are glued together.
        assert_eq!(form_decode(b"%C3=%A9"), Err(EncodingError::InvalidUtf8));
        assert_eq!(form_decode(b"%C3%A9=%C3%A9").unwrap(), pairs(&[("é", "é")]));
    }

    #[test]
    fn form_encode_round_trips_through_form_decode() {
        let list = pairs(&[("a b", "c+d"), ("", ""), ("x", "&=%"), ("ü", "😀")]);
        let body = form_encode(&list);
        assert_eq!(body, "a%20b=c%2Bd&=&x=%26%3D%25&%C3%BC=%F0%9F%98%80");
        assert_eq!(form_decode(body.as_bytes()).unwrap(), list);
    }
}
