//! The one-line CSV that the `cert-manager.io/subject-*` annotations hold: a comma-separated list
//! whose values may be double-quoted to contain commas (`"10 Downing Street, London",Leeds`).
//! Parsed as Go's `encoding/csv` reader with its defaults (no trimming, no lazy quotes), since
//! an Ingress that cert-manager accepts or rejects must be accepted or rejected here too.

/// Splits `input` into its values; an input that is not exactly one CSV record is an error.
pub fn split(input: &str) -> Result<Vec<String>, String> {
    let records = read_all(input).map_err(|e| {
        format!(
            "failed to parse {} as CSV: {e}",
            api::field::go_quote(input)
        )
    })?;
    let mut records = records.into_iter();
    match (records.next(), records.next()) {
        (None, _) => Err(format!(
            "no values found after parsing {}",
            api::field::go_quote(input)
        )),
        (Some(record), None) => Ok(record),
        (Some(_), Some(_)) => Err(format!(
            "refusing to use {} as input as it parses as multiple lines of CSV",
            api::field::go_quote(input)
        )),
    }
}

const BARE_QUOTE: &str = "bare \" in non-quoted-field";
const QUOTE: &str = "extraneous or missing \" in quoted-field";

/// Go's `csv.Reader.ReadAll` with the default settings.
fn read_all(input: &str) -> Result<Vec<Vec<String>>, String> {
    let lines = lines(input);
    let mut records = Vec::new();
    let mut fields_per_record = None;
    let mut i = 0;
    while i < lines.len() {
        // Lines holding only a line ending are skipped.
        if lines[i].trim_end_matches('\n').is_empty() {
            i += 1;
            continue;
        }
        let start_line = i + 1;
        let (record, next) = read_record(&lines, i)?;
        match fields_per_record {
            None => fields_per_record = Some(record.len()),
            Some(n) if n != record.len() => {
                return Err(format!(
                    "record on line {start_line}: wrong number of fields"
                ));
            }
            Some(_) => {}
        }
        records.push(record);
        i = next;
    }
    Ok(records)
}

/// The input's lines, each with its `\n` (a `\r\n` ending counts as `\n`, as Go reads it).
fn lines(input: &str) -> Vec<String> {
    input
        .split_inclusive('\n')
        .map(|l| match l.strip_suffix("\r\n") {
            Some(rest) => format!("{rest}\n"),
            None => l.to_owned(),
        })
        .collect()
}

/// Reads the record starting at `lines[first]`; returns it and the index of the next line.
fn read_record(lines: &[String], first: usize) -> Result<(Vec<String>, usize), String> {
    let start_line = first + 1;
    let parse_error = |line: usize, column: usize, what: &str| {
        if line == start_line {
            format!("parse error on line {line}, column {column}: {what}")
        } else {
            format!(
                "record on line {start_line}; parse error on line {line}, column {column}: {what}"
            )
        }
    };
    let mut line_no = first;
    let mut line: &str = &lines[first];
    // Byte offset of `line` within the current physical line, for error columns.
    let mut offset = 0;
    let mut fields = Vec::new();
    loop {
        if !line.starts_with('"') {
            // A non-quoted field runs to the next comma or the end of the line.
            let end = line.find(',');
            let field = match end {
                Some(e) => &line[..e],
                None => line.trim_end_matches('\n'),
            };
            if let Some(q) = field.find('"') {
                return Err(parse_error(line_no + 1, offset + q + 1, BARE_QUOTE));
            }
            fields.push(field.to_owned());
            match end {
                Some(e) => {
                    line = &line[e + 1..];
                    offset += e + 1;
                }
                None => return Ok((fields, line_no + 1)),
            }
            continue;
        }
        // A quoted field: `""` is a quote; it may span lines.
        let mut field = String::new();
        line = &line[1..];
        offset += 1;
        loop {
            if let Some(q) = line.find('"') {
                field.push_str(&line[..q]);
                line = &line[q + 1..];
                offset += q + 1;
                if line.starts_with('"') {
                    field.push('"');
                    line = &line[1..];
                    offset += 1;
                } else if line.starts_with(',') {
                    line = &line[1..];
                    offset += 1;
                    fields.push(std::mem::take(&mut field));
                    break;
                } else if line.trim_end_matches('\n').is_empty() {
                    fields.push(std::mem::take(&mut field));
                    return Ok((fields, line_no + 1));
                } else {
                    return Err(parse_error(line_no + 1, offset, QUOTE));
                }
            } else if !line.is_empty() && line_no + 1 < lines.len() {
                field.push_str(line);
                line_no += 1;
                line = &lines[line_no];
                offset = 0;
            } else {
                return Err(parse_error(line_no + 1, offset + line.len() + 1, QUOTE));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(input: &str) -> Vec<String> {
        split(input).unwrap_or_else(|e| panic!("{input:?}: {e}"))
    }

    #[test]
    fn splits_plain_and_quoted_values() {
        assert_eq!(ok("a,b,c"), ["a", "b", "c"]);
        assert_eq!(ok("Acme Corp"), ["Acme Corp"]);
        assert_eq!(ok(" a , b"), [" a ", " b"], "spaces are kept, as Go does");
        assert_eq!(
            ok("\"10 Downing Street, Westminster\",Manchester"),
            ["10 Downing Street, Westminster", "Manchester"]
        );
        assert_eq!(ok("\"say \"\"hi\"\"\",x"), ["say \"hi\"", "x"]);
        assert_eq!(ok("a,"), ["a", ""]);
        assert_eq!(ok("a\n"), ["a"], "a trailing newline ends the record");
        assert_eq!(ok("\n\na,b\r\n"), ["a", "b"], "blank lines are skipped");
        assert_eq!(ok("\"multi\nline\",b"), ["multi\nline", "b"]);
    }

    #[test]
    fn rejects_what_go_rejects() {
        let cases = [
            ("", "no values found after parsing \"\""),
            ("\n", "no values found after parsing \"\\n\""),
            (
                "a,b\nc,d",
                "refusing to use \"a,b\\nc,d\" as input as it parses as multiple lines of CSV",
            ),
            (
                "a\"b",
                "failed to parse \"a\\\"b\" as CSV: parse error on line 1, column 2: bare \" in non-quoted-field",
            ),
            (
                "\"a\"b",
                "failed to parse \"\\\"a\\\"b\" as CSV: parse error on line 1, column 3: extraneous or missing \" in quoted-field",
            ),
            (
                "\"open",
                "failed to parse \"\\\"open\" as CSV: parse error on line 1, column 6: extraneous or missing \" in quoted-field",
            ),
            (
                "a,b\nc",
                "failed to parse \"a,b\\nc\" as CSV: record on line 2: wrong number of fields",
            ),
        ];
        for (input, want) in cases {
            assert_eq!(split(input).unwrap_err(), want, "{input:?}");
        }
    }
}
