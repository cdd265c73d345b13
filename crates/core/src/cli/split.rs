//! Splitting a line typed in the browser terminal into an argv, as a POSIX shell would (without
//! expansions): blanks separate words, `'…'` is literal, `"…"` keeps blanks and honours `\"`,
//! `\\`, `\$` and `` \` ``, a backslash outside quotes escapes the next character (and joins lines),
//! and `#` at the start of a word begins a comment.
//!
//! ```
//! use layerbox_core::cli::split::split_line;
//! let argv = split_line(r#"docker run --rm busybox sh -c 'echo "hi there"; exit 3'"#).unwrap();
//! assert_eq!(argv, ["docker", "run", "--rm", "busybox", "sh", "-c", r#"echo "hi there"; exit 3"#]);
//! ```

/// A line that cannot be split; the words are those of a shell's syntax errors.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SplitError {
    /// A `'` or `"` without its closing partner.
    #[error("unexpected EOF while looking for matching `{0}'")]
    UnterminatedQuote(char),
}

/// Splits `line` into words. An empty or blank line (or a comment) gives no words.
pub fn split_line(line: &str) -> Result<Vec<String>, SplitError> {
    let mut words = Vec::new();
    let mut word = String::new();
    // A word has started even if it is still empty (`''` is an empty argument).
    let mut in_word = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' | '\n' | '\r' => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            '#' if !in_word => break,
            '\\' => match chars.next() {
                Some('\n') => {}
                Some(next) => {
                    word.push(next);
                    in_word = true;
                }
                None => {
                    word.push('\\');
                    in_word = true;
                }
            },
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(ch) => word.push(ch),
                        None => return Err(SplitError::UnterminatedQuote('\'')),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.peek() {
                            Some(&e @ ('"' | '\\' | '$' | '`')) => {
                                word.push(e);
                                chars.next();
                            }
                            Some('\n') => {
                                chars.next();
                            }
                            _ => word.push('\\'),
                        },
                        Some(ch) => word.push(ch),
                        None => return Err(SplitError::UnterminatedQuote('"')),
                    }
                }
            }
            other => {
                word.push(other);
                in_word = true;
            }
        }
    }
    if in_word {
        words.push(word);
    }
    Ok(words)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(line: &str) -> Vec<String> {
        split_line(line).unwrap()
    }

    #[test]
    fn blanks_separate_words() {
        assert_eq!(split("  docker   ps\t-a  "), ["docker", "ps", "-a"]);
        assert!(split("").is_empty());
        assert!(split("   ").is_empty());
    }

    #[test]
    fn quotes_and_escapes() {
        assert_eq!(split("echo 'a  b' \"c  d\""), ["echo", "a  b", "c  d"]);
        assert_eq!(
            split(r#"echo "say \"hi\" \$HOME \n""#),
            ["echo", r#"say "hi" $HOME \n"#]
        );
        assert_eq!(split(r"echo a\ b \'x"), ["echo", "a b", "'x"]);
        assert_eq!(split("echo '' \"\" x"), ["echo", "", "", "x"]);
        assert_eq!(split("a'b'\"c\"d"), ["abcd"]);
        assert_eq!(split("'it\\'"), ["it\\"]);
        assert_eq!(split("run \\\n -d"), ["run", "-d"]);
    }

    #[test]
    fn comments_start_at_word_boundaries() {
        assert_eq!(split("docker ps # list"), ["docker", "ps"]);
        assert_eq!(split("echo a#b"), ["echo", "a#b"]);
        assert!(split("# only a comment").is_empty());
    }

    #[test]
    fn unterminated_quotes_are_errors() {
        assert_eq!(
            split_line("echo 'abc"),
            Err(SplitError::UnterminatedQuote('\''))
        );
        assert_eq!(
            split_line("echo \"abc").unwrap_err().to_string(),
            "unexpected EOF while looking for matching `\"'"
        );
    }
}
