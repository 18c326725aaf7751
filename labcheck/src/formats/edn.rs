//! Just enough EDN to read one flat map per line, such as
//! `{:process 0, :type :ok, :f :get, :key "1", :value "x 0 0 y"}`.

/// A value in a flat EDN map.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Value {
    Nil,
    Int(i64),
    /// A keyword, without its leading colon.
    Keyword(String),
    Str(String),
}

impl Value {
    pub(crate) fn describe(&self) -> String {
        match self {
            Value::Nil => "nil".to_string(),
            Value::Int(i) => i.to_string(),
            Value::Keyword(k) => format!(":{k}"),
            Value::Str(s) => format!("{s:?}"),
        }
    }
}

/// Parses `{:k v, :k v ...}` into its entries, in order.
pub(crate) fn parse_map(line: &str) -> Result<Vec<(String, Value)>, String> {
    let mut p = Parser {
        chars: line.char_indices().peekable(),
        text: line,
    };
    p.skip_space();
    if !p.eat('{') {
        return Err("expected a map starting with '{'".to_string());
    }
    let mut entries = Vec::new();
    loop {
        p.skip_space();
        if p.eat('}') {
            break;
        }
        let key = match p.value()? {
            Value::Keyword(k) => k,
            other => {
                return Err(format!(
                    "expected a :keyword key, found {}",
                    other.describe()
                ));
            }
        };
        p.skip_space();
        if p.peek() == Some('}') {
            return Err(format!("key :{key} has no value"));
        }
        let value = p.value()?;
        entries.push((key, value));
    }
    p.skip_space();
    if let Some(c) = p.peek() {
        return Err(format!("unexpected {c:?} after the end of the map"));
    }
    Ok(entries)
}

struct Parser<'a> {
    chars: std::iter::Peekable<std::str::CharIndices<'a>>,
    text: &'a str,
}

impl Parser<'_> {
    fn peek(&mut self) -> Option<char> {
        self.chars.peek().map(|&(_, c)| c)
    }

    fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(c) {
            self.chars.next();
            true
        } else {
            false
        }
    }

    /// Whitespace and commas (which EDN treats as whitespace).
    fn skip_space(&mut self) {
        while self.peek().is_some_and(|c| c.is_whitespace() || c == ',') {
            self.chars.next();
        }
    }

    /// A run of characters up to whitespace, a comma or a closing brace.
    fn token(&mut self) -> &str {
        let start = self.chars.peek().map_or(self.text.len(), |&(i, _)| i);
        let mut end = start;
        while let Some(&(i, c)) = self.chars.peek() {
            if c.is_whitespace() || c == ',' || c == '}' {
                break;
            }
            end = i + c.len_utf8();
            self.chars.next();
        }
        &self.text[start..end]
    }

    fn value(&mut self) -> Result<Value, String> {
        match self.peek() {
            None => Err("unexpected end of line inside the map".to_string()),
            Some('"') => {
                self.chars.next();
                self.string().map(Value::Str)
            }
            Some(':') => {
                self.chars.next();
                let name = self.token();
                if name.is_empty() {
                    Err("empty keyword ':'".to_string())
                } else {
                    Ok(Value::Keyword(name.to_string()))
                }
            }
            Some(_) => {
                let token = self.token();
                if token == "nil" {
                    Ok(Value::Nil)
                } else if let Ok(i) = token.parse::<i64>() {
                    Ok(Value::Int(i))
                } else if token.is_empty() {
                    Err(format!("unexpected {:?}", self.peek().unwrap_or(' ')))
                } else {
                    Err(format!(
                        "unexpected {token:?} (expected a string, keyword, integer or nil)"
                    ))
                }
            }
        }
    }

    /// The rest of a string whose opening quote was consumed.
    fn string(&mut self) -> Result<String, String> {
        let mut out = String::new();
        loop {
            match self.chars.next() {
                None => return Err("unterminated string".to_string()),
                Some((_, '"')) => return Ok(out),
                Some((_, '\\')) => match self.chars.next() {
                    Some((_, 'n')) => out.push('\n'),
                    Some((_, 't')) => out.push('\t'),
                    Some((_, 'r')) => out.push('\r'),
                    Some((_, c @ ('"' | '\\'))) => out.push(c),
                    Some((_, c)) => return Err(format!("unknown escape \\{c} in string")),
                    None => return Err("unterminated string".to_string()),
                },
                Some((_, c)) => out.push(c),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_porcupine_kv_line() {
        let entries = parse_map(r#"{:process 12, :type :ok, :f :get, :key "3", :value "x 1 0 y"}"#)
            .expect("valid line");
        assert_eq!(
            entries,
            vec![
                ("process".to_string(), Value::Int(12)),
                ("type".to_string(), Value::Keyword("ok".into())),
                ("f".to_string(), Value::Keyword("get".into())),
                ("key".to_string(), Value::Str("3".into())),
                ("value".to_string(), Value::Str("x 1 0 y".into())),
            ]
        );
    }

    #[test]
    fn parses_nil_empty_strings_and_escapes() {
        let entries = parse_map(r#"{:a nil :b "" :c "q\"\\"}"#).expect("valid line");
        assert_eq!(entries[0].1, Value::Nil);
        assert_eq!(entries[1].1, Value::Str(String::new()));
        assert_eq!(entries[2].1, Value::Str("q\"\\".into()));
    }

    #[test]
    fn reports_what_is_wrong() {
        assert!(
            parse_map("process 1")
                .unwrap_err()
                .contains("starting with '{'")
        );
        assert!(parse_map("{:a \"x}").unwrap_err().contains("unterminated"));
        assert!(parse_map("{:a}").unwrap_err().contains("no value"));
        assert!(parse_map("{:a 1} x").unwrap_err().contains("after the end"));
        assert!(parse_map("{:a foo}").unwrap_err().contains("\"foo\""));
    }
}
