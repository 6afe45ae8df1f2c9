//! `redis-cli`: running the real one (Debian's `redis-tools`, which `.ci/run` installs), and
//! what it prints, for tests that check a transcript (the README's quickstart) without
//! needing it on the machine: its argument splitting and its terminal formatting of RESP2
//! replies (`cliFormatReplyTTY`).

use std::process::{Command, Output};

use anyhow::{Context, Result, bail};

/// Runs the real `redis-cli` with `args`; how it went, whatever its exit status.
pub fn run(args: &[&str]) -> Result<Output> {
    Command::new("redis-cli")
        .args(args)
        .output()
        .context("running redis-cli (install it: apt-get install redis-tools)")
}

/// Runs the real `redis-cli` against `127.0.0.1:port`; its standard output, or an error if it
/// failed.
pub fn run_ok(port: u16, args: &[&str]) -> Result<String> {
    let port = port.to_string();
    let out = run(&[&["-h", "127.0.0.1", "-p", &port][..], args].concat())?;
    if !out.status.success() {
        bail!(
            "redis-cli {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(String::from_utf8(out.stdout)?)
}

/// Splits a shell command line as `sh` would for the plain cases a transcript uses: words
/// separated by blanks, `'…'` and `"…"` quoting, and a `#` comment after a blank.
pub fn split_command_line(line: &str) -> Result<Vec<String>> {
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            ' ' | '\t' => {
                words.extend(word.take());
            }
            '#' if word.is_none() => break,
            '\'' => {
                let w = word.get_or_insert_with(String::new);
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => w.push(c),
                        None => bail!("unterminated ' in {line:?}"),
                    }
                }
            }
            '"' => {
                let w = word.get_or_insert_with(String::new);
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(c) => w.push(c),
                            None => bail!("dangling \\ in {line:?}"),
                        },
                        Some(c) => w.push(c),
                        None => bail!("unterminated \" in {line:?}"),
                    }
                }
            }
            c => word.get_or_insert_with(String::new).push(c),
        }
    }
    words.extend(word);
    Ok(words)
}

/// Formats one RESP2 reply as `redis-cli` prints it on a terminal, lines ending in `\n`.
pub fn format_reply(resp: &[u8]) -> Result<String> {
    let mut rest = resp;
    let mut out = String::new();
    format_value(&mut rest, "", &mut out)?;
    if !rest.is_empty() {
        bail!("bytes after the reply: {:?}", String::from_utf8_lossy(rest));
    }
    Ok(out)
}

fn format_value(input: &mut &[u8], prefix: &str, out: &mut String) -> Result<()> {
    let line = take_line(input)?;
    let (kind, body) = line.split_at(1);
    let body = std::str::from_utf8(body)?;
    match kind {
        b"+" => out.push_str(body),
        b"-" => {
            out.push_str("(error) ");
            out.push_str(body);
        }
        b":" => {
            out.push_str("(integer) ");
            out.push_str(body);
        }
        b"$" => {
            let Ok(len) = usize::try_from(body.parse::<i64>()?) else {
                out.push_str("(nil)\n");
                return Ok(());
            };
            if input.len() < len + 2 {
                bail!("truncated bulk string");
            }
            let (data, after) = input.split_at(len);
            *input = &after[2..];
            quote(data, out);
        }
        b"*" => {
            let Ok(n) = usize::try_from(body.parse::<i64>()?) else {
                out.push_str("(nil)\n");
                return Ok(());
            };
            if n == 0 {
                out.push_str("(empty array)\n");
                return Ok(());
            }
            // As redis-cli: indices right-aligned to the widest, nested replies indented
            // past them; the first element continues the parent's line.
            let width = n.to_string().len();
            let nested = format!("{prefix}{}", " ".repeat(width + 2));
            for i in 0..n {
                if i > 0 {
                    out.push_str(prefix);
                }
                out.push_str(&format!("{:>width$}) ", i + 1));
                format_value(input, &nested, out)?;
            }
            return Ok(());
        }
        _ => bail!("not a RESP2 reply: {:?}", String::from_utf8_lossy(line)),
    }
    out.push('\n');
    Ok(())
}

/// `"…"` with redis-cli's escapes (`sdscatrepr`).
fn quote(data: &[u8], out: &mut String) {
    out.push('"');
    for &b in data {
        match b {
            b'\\' => out.push_str("\\\\"),
            b'"' => out.push_str("\\\""),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            0x07 => out.push_str("\\a"),
            0x08 => out.push_str("\\b"),
            0x20..=0x7e => out.push(char::from(b)),
            _ => out.push_str(&format!("\\x{b:02x}")),
        }
    }
    out.push('"');
}

fn take_line<'a>(input: &mut &'a [u8]) -> Result<&'a [u8]> {
    let Some(end) = input.windows(2).position(|w| w == b"\r\n") else {
        bail!("truncated reply");
    };
    let line = &input[..end];
    if line.is_empty() {
        bail!("empty reply line");
    }
    *input = &input[end + 2..];
    Ok(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_like_sh() -> Result<()> {
        assert_eq!(
            split_command_line("redis-cli XADD orders '*' id 42   # a comment")?,
            ["redis-cli", "XADD", "orders", "*", "id", "42"]
        );
        assert_eq!(
            split_command_line(r#"a "b c" 'd e'f g#h"#)?,
            ["a", "b c", "d ef", "g#h"]
        );
        Ok(())
    }

    #[test]
    fn formats_like_redis_cli() -> Result<()> {
        assert_eq!(format_reply(b"$3\r\n1-0\r\n")?, "\"1-0\"\n");
        assert_eq!(format_reply(b":5\r\n")?, "(integer) 5\n");
        assert_eq!(format_reply(b"*-1\r\n")?, "(nil)\n");
        assert_eq!(format_reply(b"*0\r\n")?, "(empty array)\n");
        assert_eq!(format_reply(b"-ERR x\r\n")?, "(error) ERR x\n");
        assert_eq!(format_reply(b"$2\r\na\n\r\n")?, "\"a\\n\"\n");
        let xrange =
            b"*2\r\n*2\r\n$3\r\n1-0\r\n*2\r\n$1\r\na\r\n$1\r\nb\r\n*2\r\n$3\r\n2-0\r\n*0\r\n";
        assert_eq!(
            format_reply(xrange)?,
            "1) 1) \"1-0\"\n   2) 1) \"a\"\n      2) \"b\"\n2) 1) \"2-0\"\n   2) (empty array)\n"
        );
        Ok(())
    }
}
