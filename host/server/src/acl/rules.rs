//! `ACL SETUSER` modifiers: parsing one rule and applying it to a [`User`], with Redis 7.2's
//! semantics and error texts.
//!
//! Command rules are kept as written, so `ACL LIST` shows them back: a new `+x`/`-x` replaces
//! an earlier rule for the same `x` (and for `x|…` when `x` is a whole command), as Redis's
//! `ACLUpdateCommandRules` does. Selectors (`(…)`) are not supported.

use super::catalog::category_bit;
use super::user::{
    CommandRule, Commands, KeyPattern, READ, User, WRITE, hash_password, valid_hash,
};

/// Why a modifier was refused; [`RuleError::reason`] is Redis's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleError {
    /// A `+`/`-` rule names no known command or category.
    UnknownName,
    /// Not a modifier, or a malformed one.
    Syntax,
    /// A key pattern after `~*`/`allkeys`.
    KeyAfterAllKeys,
    /// A channel pattern after `&*`/`allchannels`.
    ChannelAfterAllChannels,
    /// `<pass`/`!hash` for a password the user does not have.
    NoSuchPassword,
    /// `#`/`!` with something that is not a SHA-256 hex digest.
    BadHash,
    /// `+cmd|sub|arg`: first arguments of subcommands.
    FirstArgOfSubcommand,
    /// `(…)`: selectors.
    Selectors,
}

impl RuleError {
    /// The reason, as Redis words it after `Error in ACL SETUSER modifier '…': `.
    pub fn reason(self) -> &'static str {
        match self {
            RuleError::UnknownName => "Unknown command or category name in ACL",
            RuleError::Syntax => "Syntax error",
            RuleError::KeyAfterAllKeys => {
                "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have any effect. Try 'resetkeys' to start with an empty list of patterns"
            }
            RuleError::ChannelAfterAllChannels => {
                "Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not have any effect. Try 'resetchannels' to start with an empty list of channels"
            }
            RuleError::NoSuchPassword => {
                "The password you are trying to remove from the user does not exist"
            }
            RuleError::BadHash => {
                "The password hash must be exactly 64 characters and contain only lowercase hexadecimal characters"
            }
            RuleError::FirstArgOfSubcommand => {
                "Allowing first-arg of a subcommand is not supported"
            }
            RuleError::Selectors => "Selectors are not supported by Sluice",
        }
    }
}

/// Applies one modifier to `user`. On error `user` may be half-changed: apply rules to a
/// copy and keep it only if all succeed. Call [`User::finish`] afterwards.
pub fn apply(user: &mut User, op: &[u8]) -> Result<(), RuleError> {
    let is = |word: &str| op.eq_ignore_ascii_case(word.as_bytes());
    match op.first() {
        None => {}
        Some(_) if is("on") => user.enabled = true,
        Some(_) if is("off") => user.enabled = false,
        Some(_) if is("skip-sanitize-payload") => user.skip_sanitize = true,
        Some(_) if is("sanitize-payload") => user.skip_sanitize = false,
        Some(_) if is("nopass") => {
            user.nopass = true;
            user.passwords.clear();
        }
        Some(_) if is("resetpass") => {
            user.nopass = false;
            user.passwords.clear();
        }
        Some(b'>' | b'#') => {
            let hash = if op[0] == b'>' {
                hash_password(&op[1..])
            } else {
                checked_hash(&op[1..])?
            };
            if !user.passwords.contains(&hash) {
                user.passwords.push(hash);
            }
            user.nopass = false;
        }
        Some(b'<' | b'!') => {
            let hash = if op[0] == b'<' {
                hash_password(&op[1..])
            } else {
                checked_hash(&op[1..])?
            };
            let at = user.passwords.iter().position(|p| *p == hash);
            user.passwords.remove(at.ok_or(RuleError::NoSuchPassword)?);
        }
        Some(b'(') => return Err(RuleError::Selectors),
        // Sluice has only the root selector: nothing to clear.
        Some(_) if is("clearselectors") => {}
        Some(_) if is("reset") => {
            for op in [
                "resetpass",
                "resetkeys",
                "resetchannels",
                "off",
                "sanitize-payload",
            ] {
                apply(user, op.as_bytes())?;
            }
            apply(user, b"-@all")?;
        }
        Some(_) => apply_selector(user, op)?,
    }
    Ok(())
}

/// Key, channel and command modifiers (what Redis applies to a selector).
fn apply_selector(user: &mut User, op: &[u8]) -> Result<(), RuleError> {
    let is = |word: &str| op.eq_ignore_ascii_case(word.as_bytes());
    if is("allkeys") || op == b"~*" {
        user.all_keys = true;
        user.keys.clear();
    } else if is("resetkeys") {
        user.all_keys = false;
        user.keys.clear();
    } else if is("allchannels") || op == b"&*" {
        user.all_channels = true;
        user.channels.clear();
    } else if is("resetchannels") {
        user.all_channels = false;
        user.channels.clear();
    } else if is("allcommands") || is("+@all") {
        allow_all_commands(&mut user.commands);
    } else if is("nocommands") || is("-@all") {
        let commands = &mut user.commands;
        commands.bits.iter_mut().for_each(|w| *w = 0);
        commands.all = false;
        commands.from_all = false;
        commands.first_args.clear();
        commands.rules.clear();
    } else if op[0] == b'~' || op[0] == b'%' {
        add_key_pattern(user, op)?;
    } else if op[0] == b'&' {
        if user.all_channels {
            return Err(RuleError::ChannelAfterAllChannels);
        }
        let pattern = &op[1..];
        if has_spaces(pattern) {
            return Err(RuleError::Syntax);
        }
        if !user.channels.iter().any(|c| c == pattern) {
            user.channels.push(pattern.to_vec());
        }
    } else if op.len() > 1 && op[1] == b'@' && (op[0] == b'+' || op[0] == b'-') {
        let bit = category_bit(&op[2..]).ok_or(RuleError::UnknownName)?;
        let allow = op[0] == b'+';
        update_rules(&mut user.commands, &op[1..], allow);
        let catalog = user.commands.catalog;
        for index in catalog.in_category(bit) {
            change(&mut user.commands, index, allow);
        }
    } else if op[0] == b'+' {
        allow_command(&mut user.commands, &op[1..])?;
    } else if op[0] == b'-' {
        let catalog = user.commands.catalog;
        let index = catalog.find(&op[1..]).ok_or(RuleError::UnknownName)?;
        change(&mut user.commands, index, false);
        let name = catalog.full_name(index);
        update_rules(&mut user.commands, name.as_bytes(), false);
    } else {
        return Err(RuleError::Syntax);
    }
    Ok(())
}

/// `+@all`: every command, including any added later.
pub fn allow_all_commands(commands: &mut Commands) {
    commands.bits.iter_mut().for_each(|w| *w = u64::MAX);
    commands.all = true;
    commands.from_all = true;
    commands.first_args.clear();
    commands.rules.clear();
}

/// `+cmd`, `+container|sub`, or `+cmd|first-arg` for a command without subcommands.
fn allow_command(commands: &mut Commands, name: &[u8]) -> Result<(), RuleError> {
    let catalog = commands.catalog;
    let Some(bar) = name.iter().rposition(|&b| b == b'|') else {
        let index = catalog.find(name).ok_or(RuleError::UnknownName)?;
        change(commands, index, true);
        update_rules(commands, catalog.full_name(index).as_bytes(), true);
        return Ok(());
    };
    let (base, arg) = (&name[..bar], &name[bar + 1..]);
    let base_index = catalog.find(base).ok_or(RuleError::UnknownName)?;
    let entry = catalog.get(base_index).ok_or(RuleError::UnknownName)?;
    if entry.parent.is_some() {
        return Err(RuleError::FirstArgOfSubcommand);
    }
    if arg.is_empty() || has_spaces(arg) {
        return Err(RuleError::Syntax);
    }
    if entry.subcommands.is_empty() {
        // Redis's deprecated first-argument rule (`+select|0`): allowed only with that
        // argument while the command's own bit is clear.
        let arg = arg.to_ascii_lowercase();
        match commands
            .first_args
            .iter_mut()
            .find(|(i, _)| *i == base_index)
        {
            Some((_, args)) if args.contains(&arg) => {}
            Some((_, args)) => args.push(arg),
            None => commands.first_args.push((base_index, vec![arg])),
        }
    } else {
        let index = catalog.find(name).ok_or(RuleError::UnknownName)?;
        change(commands, index, true);
    }
    update_rules(commands, name, true);
    Ok(())
}

/// Sets or clears a command's bit (and, for a container, its subcommands' bits), as Redis's
/// `ACLChangeSelectorPerm` does.
fn change(commands: &mut Commands, index: usize, allow: bool) {
    let set = |commands: &mut Commands, i: usize| {
        if let Some(word) = commands.bits.get_mut(i / 64) {
            if allow {
                *word |= 1 << (i % 64);
            } else {
                *word &= !(1 << (i % 64));
                commands.all = false;
            }
        }
    };
    set(commands, index);
    commands.first_args.retain(|(i, _)| *i != index);
    if let Some(entry) = commands.catalog.get(index) {
        for sub in entry.subcommands.clone() {
            set(commands, sub);
        }
    }
}

/// Records `+name`/`-name` at the end, dropping earlier rules for `name` and, when `name` is
/// a whole command, for its `name|…` forms.
fn update_rules(commands: &mut Commands, name: &[u8], allow: bool) {
    let name = name.to_ascii_lowercase();
    commands.rules.retain(|rule| {
        let same = rule.name == name;
        let narrower = rule.name.len() > name.len()
            && rule.name.starts_with(&name)
            && rule.name[name.len()] == b'|';
        !(same || narrower)
    });
    commands.rules.push(CommandRule { allow, name });
}

/// `~pattern` or `%R~`/`%W~`/`%RW~pattern`.
fn add_key_pattern(user: &mut User, op: &[u8]) -> Result<(), RuleError> {
    if user.all_keys {
        return Err(RuleError::KeyAfterAllKeys);
    }
    let (access, pattern) = if op[0] == b'%' {
        let mut access = 0;
        let mut at = 1;
        while let Some(&c) = op.get(at) {
            at += 1;
            match c.to_ascii_uppercase() {
                b'R' if access & READ == 0 => access |= READ,
                b'W' if access & WRITE == 0 => access |= WRITE,
                // As in Redis, `%R` with no `~` is the empty pattern.
                b'~' => break,
                _ => return Err(RuleError::Syntax),
            }
        }
        if access == 0 {
            return Err(RuleError::Syntax);
        }
        (access, &op[at.min(op.len())..])
    } else {
        (READ | WRITE, &op[1..])
    };
    if has_spaces(pattern) {
        return Err(RuleError::Syntax);
    }
    match user.keys.iter_mut().find(|k| k.pattern == pattern) {
        Some(existing) => existing.access |= access,
        None => user.keys.push(KeyPattern {
            pattern: pattern.to_vec(),
            access,
        }),
    }
    Ok(())
}

fn checked_hash(hash: &[u8]) -> Result<String, RuleError> {
    if valid_hash(hash) {
        Ok(String::from_utf8_lossy(hash).into_owned())
    } else {
        Err(RuleError::BadHash)
    }
}

/// Redis refuses whitespace and NULs in user names and patterns.
pub fn has_spaces(text: &[u8]) -> bool {
    text.iter()
        .any(|&b| b == 0 || b == b' ' || (b'\t'..=b'\r').contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::acl::test_catalog::catalog;

    fn user(rules: &[&str]) -> Result<User, (String, RuleError)> {
        let mut user = User::new(b"u", 1, catalog());
        for rule in rules {
            apply(&mut user, rule.as_bytes()).map_err(|e| ((*rule).to_owned(), e))?;
        }
        user.finish();
        Ok(user)
    }

    fn listed(rules: &[&str]) -> String {
        let user = user(rules).expect("valid rules");
        String::from_utf8_lossy(&user.describe()).into_owned()
    }

    #[test]
    fn users_start_off_with_nothing() {
        assert_eq!(listed(&[]), "off sanitize-payload resetchannels -@all");
    }

    #[test]
    fn the_briefs_example_lists_in_redis_order() {
        assert_eq!(
            listed(&["on", ">secret", "~orders.*", "+@read", "+xadd", "-@admin"]),
            "on sanitize-payload #2bb80d537b1da3e38bd30361aa855686bde0eacd7162fef6a25fe97bf527a25b \
             ~orders.* resetchannels -@all +@read +xadd -@admin"
        );
    }

    #[test]
    fn command_rules_replace_earlier_ones_for_the_same_name() {
        // Redis 7.2's ACLUpdateCommandRules: `-config` drops `+config|get`, `-select` drops
        // `+select|0`, `-@read` replaces `+@read`.
        assert_eq!(
            listed(&[
                "+CONFIG|GET",
                "-CONFIG",
                "+@READ",
                "-@Read",
                "+select|0",
                "+select|1",
                "-select",
                "+select|2"
            ]),
            "off sanitize-payload resetchannels -@all -config -@read -select +select|2"
        );
        assert_eq!(
            listed(&[
                "+client",
                "-@all",
                "+xadd",
                "nocommands",
                "+xlen",
                "allcommands",
                "-xlen"
            ]),
            "off sanitize-payload resetchannels +@all -xlen"
        );
    }

    #[test]
    fn command_bits_follow_the_rules() {
        let find = |name: &str| catalog().find(name.as_bytes()).expect(name);
        let u = user(&["+@all", "-@admin", "-config", "+config|get"]).expect("valid");
        assert!(u.commands.allowed(find("xadd")));
        assert!(u.commands.allowed(find("config|get")));
        assert!(!u.commands.allowed(find("config|set")));
        assert!(!u.commands.allowed(find("sluice|routes")));
        assert!(!u.commands.all && u.commands.from_all);
        // A container rule covers its subcommands.
        let u = user(&["+xinfo"]).expect("valid");
        assert!(u.commands.allowed(find("xinfo|stream")) && !u.commands.allowed(find("xadd")));
        let u = user(&["+select|0"]).expect("valid");
        assert!(!u.commands.allowed(find("select")));
        assert_eq!(
            u.commands.first_args,
            vec![(find("select"), vec![b"0".to_vec()])]
        );
    }

    #[test]
    fn keys_channels_and_passwords() {
        assert_eq!(
            listed(&[
                "~a", "~a", "%R~a", "%W~b", "~b", "%r~c", "%RW~d", "%WR~e", "&ch", "&ch"
            ]),
            "off sanitize-payload ~a ~b %R~c ~d ~e resetchannels &ch -@all"
        );
        assert_eq!(
            listed(&["%R"]),
            "off sanitize-payload %R~ resetchannels -@all"
        );
        assert_eq!(
            listed(&["~a", "allkeys", "allchannels", "nopass", "on"]),
            "on nopass sanitize-payload ~* &* -@all"
        );
        let u = user(&[">a", ">b", "<a", ">b"]).expect("valid");
        assert_eq!(u.passwords, vec![hash_password(b"b")]);
        let u = user(&[">a", "nopass"]).expect("valid");
        assert!(u.nopass && u.passwords.is_empty());
        let u = user(&["nopass", ">a"]).expect("valid");
        assert!(!u.nopass && u.passwords.len() == 1);
        assert_eq!(
            listed(&["skip-sanitize-payload", "on", ">x", "~k", "+xadd", "reset"]),
            "off sanitize-payload resetchannels -@all"
        );
    }

    #[test]
    fn errors_are_redis_errors() {
        let err = |rules: &[&str]| user(rules).err().map(|(_, e)| e);
        assert_eq!(err(&["+nosuch"]), Some(RuleError::UnknownName));
        assert_eq!(err(&["+@nosuch"]), Some(RuleError::UnknownName));
        assert_eq!(err(&["-select|0"]), Some(RuleError::UnknownName));
        assert_eq!(err(&["+config|nosuch"]), Some(RuleError::UnknownName));
        assert_eq!(
            err(&["+config|get|x"]),
            Some(RuleError::FirstArgOfSubcommand)
        );
        assert_eq!(err(&["+config|"]), Some(RuleError::Syntax));
        assert_eq!(err(&["bogus"]), Some(RuleError::Syntax));
        assert_eq!(err(&["%X~a"]), Some(RuleError::Syntax));
        assert_eq!(err(&["%~a"]), Some(RuleError::Syntax));
        assert_eq!(err(&["%RR~a"]), Some(RuleError::Syntax));
        assert_eq!(err(&["~a b"]), Some(RuleError::Syntax));
        assert_eq!(err(&["#abc"]), Some(RuleError::BadHash));
        assert_eq!(err(&["!abc"]), Some(RuleError::BadHash));
        assert_eq!(err(&["<nothere"]), Some(RuleError::NoSuchPassword));
        assert_eq!(err(&["allkeys", "~x"]), Some(RuleError::KeyAfterAllKeys));
        assert_eq!(err(&["~*", "%R~x"]), Some(RuleError::KeyAfterAllKeys));
        assert_eq!(err(&["&*", "&x"]), Some(RuleError::ChannelAfterAllChannels));
        assert_eq!(err(&["(+get ~x)"]), Some(RuleError::Selectors));
        assert_eq!(err(&["", "clearselectors", "~x", "resetkeys", "~*"]), None);
    }
}
