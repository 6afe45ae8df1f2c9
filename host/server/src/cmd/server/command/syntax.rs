//! Argument docs derived from a command's one-line syntax, for `COMMAND DOCS`.
//!
//! Redis keeps a hand-written JSON tree per command; Sluice keeps the syntax line the
//! documentation shows (`key [NOMKSTREAM] *|id field value [field value ...]`) and derives the
//! tree from it. `redis-cli` builds its typing hints from that tree, so the derivation follows
//! Redis's conventions:
//!
//! - `UPPER` words (and symbols such as `*`, `=`, `~`) are tokens, `lower` words are values;
//! - `a|b` is a `oneof`; `[...]` is optional; `(...)` groups;
//! - `x [x ...]` is one `x` flagged `multiple`, `f v [f v ...]` a `multiple` block of `f v`;
//! - `[TOKEN value]` is the value introduced by its token, `[TOKEN a b]` a block with a token.
//!
//! Malformed syntax (unbalanced brackets) still yields docs; nothing here can panic.

/// What kind of value an argument is, as `COMMAND DOCS` names it.
#[derive(Debug, Clone, PartialEq)]
pub enum ArgKind {
    /// A key name (`key`).
    Key,
    /// Any string.
    String,
    /// An integer.
    Integer,
    /// A floating-point number (the blocking list commands' `timeout`, seconds).
    Double,
    /// A glob pattern.
    Pattern,
    /// A literal word with no value (`NOMKSTREAM`).
    PureToken,
    /// Exactly one of these.
    OneOf(Vec<ArgDoc>),
    /// All of these, in order.
    Block(Vec<ArgDoc>),
}

impl ArgKind {
    /// The `type` Redis reports.
    pub fn type_name(&self) -> &'static str {
        match self {
            ArgKind::Key => "key",
            ArgKind::String => "string",
            ArgKind::Integer => "integer",
            ArgKind::Double => "double",
            ArgKind::Pattern => "pattern",
            ArgKind::PureToken => "pure-token",
            ArgKind::OneOf(_) => "oneof",
            ArgKind::Block(_) => "block",
        }
    }
}

/// One documented argument.
#[derive(Debug, Clone, PartialEq)]
pub struct ArgDoc {
    /// Lower-case name (`count`, `nomkstream`, `field_value`).
    pub name: String,
    /// Its type, with sub-arguments for `oneof` and `block`.
    pub kind: ArgKind,
    /// The literal word introducing it (`COUNT`), if any.
    pub token: Option<String>,
    /// May be left out.
    pub optional: bool,
    /// May repeat.
    pub multiple: bool,
}

impl ArgDoc {
    fn new(name: impl Into<String>, kind: ArgKind, token: Option<String>) -> Self {
        Self {
            name: name.into(),
            kind,
            token,
            optional: false,
            multiple: false,
        }
    }

    fn is_pure_token(&self) -> bool {
        self.kind == ArgKind::PureToken
    }
}

/// Derives the argument docs of a syntax line.
pub fn parse_syntax(syntax: &str) -> Vec<ArgDoc> {
    let mut parser = Parser {
        tokens: tokenize(syntax),
        pos: 0,
    };
    let mut nodes = Vec::new();
    while parser.pos < parser.tokens.len() {
        nodes.extend(parser.seq());
        // A stray closing bracket ends `seq` at top level: skip it and go on.
        parser.pos += 1;
    }
    convert_seq(&nodes)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tok<'a> {
    Open,
    Close,
    OpenParen,
    CloseParen,
    Bar,
    Ellipsis,
    Word(&'a str),
}

fn tokenize(syntax: &str) -> Vec<Tok<'_>> {
    let bytes = syntax.as_bytes();
    let special = |b: u8| b" \t[]()|".contains(&b);
    let ellipsis_at = |i: usize| bytes.get(i..).is_some_and(|s| s.starts_with(b"..."));
    let mut tokens = Vec::new();
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let tok = match b {
            b' ' | b'\t' => None,
            b'[' => Some(Tok::Open),
            b']' => Some(Tok::Close),
            b'(' => Some(Tok::OpenParen),
            b')' => Some(Tok::CloseParen),
            b'|' => Some(Tok::Bar),
            _ if ellipsis_at(i) => {
                tokens.push(Tok::Ellipsis);
                i += 3;
                continue;
            }
            _ => {
                let start = i;
                i += 1;
                while bytes.get(i).is_some_and(|&b| !special(b)) && !ellipsis_at(i) {
                    i += 1;
                }
                // Words end at ASCII bytes or at the end, so these are char boundaries.
                if let Some(word) = syntax.get(start..i) {
                    tokens.push(Tok::Word(word));
                }
                continue;
            }
        };
        tokens.extend(tok);
        i += 1;
    }
    tokens
}

/// The syntax as written, before Redis's conventions are applied.
#[derive(Debug)]
enum Node<'a> {
    Word(&'a str),
    Optional(Vec<Node<'a>>),
    Group(Vec<Node<'a>>),
    Alt(Vec<Node<'a>>),
    Ellipsis,
}

struct Parser<'a> {
    tokens: Vec<Tok<'a>>,
    pos: usize,
}

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<Tok<'a>> {
        self.tokens.get(self.pos).copied()
    }

    fn starts_atom(tok: Option<Tok<'_>>) -> bool {
        matches!(
            tok,
            Some(Tok::Open | Tok::OpenParen | Tok::Ellipsis | Tok::Word(_))
        )
    }

    /// Items up to (not including) a closing bracket or the end.
    fn seq(&mut self) -> Vec<Node<'a>> {
        let mut nodes = Vec::new();
        loop {
            match self.peek() {
                None | Some(Tok::Close | Tok::CloseParen) => return nodes,
                Some(Tok::Bar) => self.pos += 1,
                _ => nodes.push(self.alt()),
            }
        }
    }

    fn alt(&mut self) -> Node<'a> {
        let first = self.atom();
        if self.peek() != Some(Tok::Bar) {
            return first;
        }
        let mut items = vec![first];
        while self.peek() == Some(Tok::Bar) {
            self.pos += 1;
            if Self::starts_atom(self.peek()) {
                items.push(self.atom());
            }
        }
        Node::Alt(items)
    }

    fn atom(&mut self) -> Node<'a> {
        let tok = self.peek();
        self.pos += 1;
        match tok {
            Some(Tok::Open) => Node::Optional(self.closed_by(Tok::Close)),
            Some(Tok::OpenParen) => Node::Group(self.closed_by(Tok::CloseParen)),
            Some(Tok::Word(word)) => Node::Word(word),
            _ => Node::Ellipsis,
        }
    }

    fn closed_by(&mut self, close: Tok<'_>) -> Vec<Node<'a>> {
        let inner = self.seq();
        if self.peek() == Some(close) {
            self.pos += 1;
        }
        inner
    }
}

fn convert_seq(nodes: &[Node<'_>]) -> Vec<ArgDoc> {
    let mut docs: Vec<ArgDoc> = Vec::new();
    for node in nodes {
        match node {
            Node::Ellipsis => {
                if let Some(last) = docs.last_mut() {
                    last.multiple = true;
                }
            }
            Node::Optional(inner) => {
                if let Some((Node::Ellipsis, repeated)) = inner.split_last() {
                    let repeated = convert_seq(repeated);
                    let k = repeated.len();
                    // `x [x ...]`: the group repeats what precedes it.
                    if k > 0 && docs.len() >= k && same_shape(&docs[docs.len() - k..], &repeated) {
                        let tail = docs.split_off(docs.len() - k);
                        if let Some(mut unit) = unit_of(tail) {
                            unit.multiple = true;
                            docs.push(unit);
                        }
                        continue;
                    }
                }
                docs.extend(optional_unit(convert_seq(inner)));
            }
            Node::Group(inner) => docs.extend(unit_of(convert_seq(inner))),
            Node::Alt(items) => docs.extend(one_of(items)),
            Node::Word(word) => docs.push(word_doc(word)),
        }
    }
    docs
}

/// Same names, tokens and kinds, ignoring flags.
fn same_shape(a: &[ArgDoc], b: &[ArgDoc]) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).all(|(x, y)| {
            x.name == y.name
                && x.token == y.token
                && std::mem::discriminant(&x.kind) == std::mem::discriminant(&y.kind)
        })
}

/// Several docs as one argument: the doc itself, a value with its token, or a block.
fn unit_of(mut docs: Vec<ArgDoc>) -> Option<ArgDoc> {
    if docs.len() <= 1 {
        return docs.pop();
    }
    let first = docs.remove(0);
    if first.is_pure_token() {
        if let [only] = docs.as_slice()
            && only.token.is_none()
            && !only.is_pure_token()
        {
            let mut value = docs.remove(0);
            value.token = first.token;
            return Some(value);
        }
        return Some(ArgDoc::new(first.name, ArgKind::Block(docs), first.token));
    }
    docs.insert(0, first);
    let name = match docs.as_slice() {
        [a, b] => format!("{}_{}", a.name, b.name),
        _ => format!("{}_block", docs[0].name),
    };
    Some(ArgDoc::new(name, ArgKind::Block(docs), None))
}

fn optional_unit(docs: Vec<ArgDoc>) -> Option<ArgDoc> {
    unit_of(docs).map(|mut doc| {
        doc.optional = true;
        doc
    })
}

fn one_of(items: &[Node<'_>]) -> Option<ArgDoc> {
    let choices: Vec<ArgDoc> = items
        .iter()
        .filter_map(|item| match item {
            Node::Optional(inner) => optional_unit(convert_seq(inner)),
            Node::Ellipsis => None,
            other => unit_of(convert_seq(std::slice::from_ref(other))),
        })
        .collect();
    if choices.len() <= 1 {
        return choices.into_iter().next();
    }
    let name = choices
        .iter()
        .map(|c| c.name.as_str())
        .collect::<Vec<_>>()
        .join("_");
    Some(ArgDoc::new(name, ArgKind::OneOf(choices), None))
}

fn word_doc(word: &str) -> ArgDoc {
    if !word.bytes().any(|b| b.is_ascii_lowercase()) {
        let name = match word {
            "*" => "auto_id".to_owned(),
            "$" => "new_id".to_owned(),
            "=" => "equal".to_owned(),
            "~" => "approximately".to_owned(),
            "+" => "end".to_owned(),
            "-" => "start".to_owned(),
            _ => word.to_ascii_lowercase(),
        };
        return ArgDoc::new(name, ArgKind::PureToken, Some(word.to_owned()));
    }
    let kind = match word {
        "key" | "newkey" | "source" | "destination" => ArgKind::Key,
        "pattern" => ArgKind::Pattern,
        "count"
        | "bits"
        | "index"
        | "cursor"
        | "protover"
        | "seconds"
        | "milliseconds"
        | "client-id"
        | "entries-added"
        | "entries-read"
        | "min-idle-time"
        | "unix-time-seconds"
        | "unix-time-milliseconds"
        | "numkeys"
        | "retrycount"
        | "stop"
        | "rank"
        | "num-matches"
        | "len"
        | "ms" => ArgKind::Integer,
        "timeout" => ArgKind::Double,
        _ => ArgKind::String,
    };
    ArgDoc::new(word, kind, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(name: &str, kind: ArgKind) -> ArgDoc {
        ArgDoc::new(name, kind, None)
    }

    fn token(word: &str) -> ArgDoc {
        word_doc(word)
    }

    fn with(mut d: ArgDoc, token: Option<&str>, optional: bool, multiple: bool) -> ArgDoc {
        d.token = token.map(str::to_owned).or(d.token);
        d.optional = optional;
        d.multiple = multiple;
        d
    }

    #[test]
    fn plain_and_repeated_values() {
        assert_eq!(
            parse_syntax("key [key ...]"),
            vec![with(doc("key", ArgKind::Key), None, false, true)]
        );
        assert_eq!(
            parse_syntax("[section [section ...]]"),
            vec![with(doc("section", ArgKind::String), None, true, true)]
        );
        assert_eq!(
            parse_syntax("[command-name ...]"),
            vec![with(doc("command-name", ArgKind::String), None, true, true)]
        );
        assert_eq!(parse_syntax(""), vec![]);
    }

    #[test]
    fn field_value_pairs_become_a_multiple_block() {
        let docs = parse_syntax("key id field value [field value ...]");
        assert_eq!(docs.len(), 3);
        assert_eq!(
            docs[2],
            with(
                doc(
                    "field_value",
                    ArgKind::Block(vec![
                        doc("field", ArgKind::String),
                        doc("value", ArgKind::String)
                    ])
                ),
                None,
                false,
                true
            )
        );
    }

    #[test]
    fn tokens_introduce_values() {
        assert_eq!(
            parse_syntax("key start end [COUNT count]"),
            vec![
                doc("key", ArgKind::Key),
                doc("start", ArgKind::String),
                doc("end", ArgKind::String),
                with(doc("count", ArgKind::Integer), Some("COUNT"), true, false),
            ]
        );
        assert_eq!(
            parse_syntax("[TYPE normal] [ID client-id ...]"),
            vec![
                with(doc("normal", ArgKind::String), Some("TYPE"), true, false),
                with(doc("client-id", ArgKind::Integer), Some("ID"), true, true),
            ]
        );
        assert_eq!(
            parse_syntax("[NOMKSTREAM]"),
            vec![with(token("NOMKSTREAM"), None, true, false)]
        );
    }

    #[test]
    fn alternatives_are_oneof() {
        assert_eq!(
            parse_syntax("[ASYNC|SYNC]"),
            vec![with(
                doc(
                    "async_sync",
                    ArgKind::OneOf(vec![token("ASYNC"), token("SYNC")])
                ),
                None,
                true,
                false
            )]
        );
        let docs = parse_syntax("*|id");
        assert_eq!(
            docs,
            vec![doc(
                "auto_id_id",
                ArgKind::OneOf(vec![token("*"), doc("id", ArgKind::String)])
            )]
        );
    }

    #[test]
    fn xadd_trim_block() {
        let docs = parse_syntax(
            "key [NOMKSTREAM] [MAXLEN|MINID [=|~] threshold [LIMIT count]] *|id field value [field value ...]",
        );
        let names: Vec<_> = docs.iter().map(|d| d.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "key",
                "nomkstream",
                "maxlen_minid_block",
                "auto_id_id",
                "field_value"
            ]
        );
        let ArgKind::Block(trim) = &docs[2].kind else {
            panic!("trim is not a block: {:?}", docs[2]);
        };
        assert!(docs[2].optional);
        assert_eq!(trim.len(), 4);
        assert!(trim[1].optional);
        assert_eq!(trim[3].token.as_deref(), Some("LIMIT"));
    }

    #[test]
    fn token_blocks_and_nesting() {
        let docs = parse_syntax("[protover [AUTH username password] [SETNAME clientname]]");
        assert_eq!(docs.len(), 1);
        let ArgKind::Block(inner) = &docs[0].kind else {
            panic!("not a block");
        };
        assert_eq!(inner[1].token.as_deref(), Some("AUTH"));
        assert!(matches!(inner[1].kind, ArgKind::Block(ref args) if args.len() == 2));
        assert_eq!(inner[2].token.as_deref(), Some("SETNAME"));
        assert_eq!(inner[2].kind, ArgKind::String);
    }

    #[test]
    fn malformed_syntax_does_not_panic() {
        for syntax in [
            "[a",
            "a]",
            "((",
            "|",
            "a|",
            "...",
            "[...]",
            "] [ x ) |",
            "é [ü]",
        ] {
            let _ = parse_syntax(syntax);
        }
        assert_eq!(parse_syntax("a] b").len(), 2);
    }
}
