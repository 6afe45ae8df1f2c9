//! Errors: the one enum for start-up failures, and the error replies commands send, with
//! Redis's texts kept together here so they stay exact.

use std::path::PathBuf;

use sluice_resp::{ArgError, Reply};
use sluice_streams::StreamError;

/// Why the server could not start or keep running. Each says what the operator should do.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The config file is unreadable or invalid.
    #[error("config file {path}: {reason} (fix the file or pass the setting as a flag)")]
    Config { path: PathBuf, reason: String },
    /// A setting has a value the server cannot use.
    #[error("invalid setting: {0}")]
    Invalid(String),
    /// The broker could not open its data folder or start.
    #[error(transparent)]
    Broker(#[from] sluice_broker::BrokerError),
    /// Listening or accepting failed.
    #[error("network: {0}")]
    Io(#[from] std::io::Error),
}

/// An error reply: its text starts with the code (`ERR`, `WRONGTYPE`, `NOGROUP`, …).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CmdError(pub String);

impl CmdError {
    /// An error with the generic `ERR` code: `msg` is the text after it.
    pub fn err(msg: impl std::fmt::Display) -> Self {
        CmdError(format!("ERR {msg}"))
    }

    /// The reply to send.
    pub fn into_reply(self) -> Reply {
        Reply::Error(self.0)
    }
}

impl From<ArgError> for CmdError {
    fn from(e: ArgError) -> Self {
        CmdError(e.to_string())
    }
}

impl From<sluice_broker::keyspace::WrongType> for CmdError {
    fn from(_: sluice_broker::keyspace::WrongType) -> Self {
        CmdError(WRONGTYPE.into())
    }
}

impl From<StreamError> for CmdError {
    fn from(e: StreamError) -> Self {
        CmdError(e.to_string())
    }
}

/// `ERR wrong number of arguments for '<name>' command` (`name` lower-case, `cmd|sub` for
/// subcommands).
pub fn wrong_arity(name: &str) -> CmdError {
    CmdError::err(format_args!(
        "wrong number of arguments for '{name}' command"
    ))
}

/// Redis's reply to a command it does not know, quoting up to 128 bytes of the name, then
/// arguments until their quoted list reaches 128 bytes (the last one cut to fit).
pub fn unknown_command(args: &[bytes::Bytes]) -> CmdError {
    let mut text = String::from("ERR unknown command '");
    if let Some(name) = args.first() {
        text.push_str(&truncated(name));
    }
    text.push_str("', with args beginning with: ");
    let mut quoted = Vec::new();
    for arg in args.iter().skip(1) {
        let Some(room) = 128usize.checked_sub(quoted.len()).filter(|&n| n > 0) else {
            break;
        };
        quoted.push(b'\'');
        quoted.extend_from_slice(c_prefix(arg, room));
        quoted.extend_from_slice(b"' ");
    }
    text.push_str(&String::from_utf8_lossy(&quoted));
    CmdError(text)
}

/// `ERR unknown subcommand '<sub>'. Try <CMD> HELP.`
pub fn unknown_subcommand(command: &str, sub: &[u8]) -> CmdError {
    CmdError::err(format_args!(
        "unknown subcommand '{}'. Try {} HELP.",
        truncated(sub),
        command.to_ascii_uppercase()
    ))
}

fn truncated(arg: &[u8]) -> String {
    String::from_utf8_lossy(c_prefix(arg, 128)).into_owned()
}

/// What Redis's `%.<max>s` prints of an argument: up to `max` bytes, and nothing from a NUL on.
fn c_prefix(arg: &[u8], max: usize) -> &[u8] {
    let end = arg.iter().position(|&b| b == 0).unwrap_or(arg.len());
    &arg[..end.min(max)]
}

pub const SYNTAX: &str = "ERR syntax error";
pub const NOT_INTEGER: &str = "ERR value is not an integer or out of range";
pub const NO_SUCH_KEY: &str = "ERR no such key";
pub use sluice_broker::keyspace::WRONGTYPE;
pub const DB_INDEX_OUT_OF_RANGE: &str = "ERR DB index is out of range";
pub const BUSYKEY: &str = "BUSYKEY Target key name already exists.";
/// `OBJECT FREQ` when no LFU policy is set.
pub const OBJECT_NO_LFU: &str = "ERR An LFU maxmemory policy is not selected, access frequency \
not tracked. Please note that when switching between policies at runtime LRU and LFU data will \
take some time to adjust.";
/// `OBJECT IDLETIME` under an LFU policy.
pub const OBJECT_LFU_NO_IDLETIME: &str = "ERR An LFU maxmemory policy is selected, idle time not \
tracked. Please note that when switching between policies at runtime LRU and LFU data will take \
some time to adjust.";
pub const RESTORE_BAD_TTL: &str = "ERR Invalid TTL value, must be >= 0";
pub const RESTORE_BAD_IDLETIME: &str = "ERR Invalid IDLETIME value, must be >= 0";
pub const RESTORE_BAD_FREQ: &str = "ERR Invalid FREQ value, must be >= 0 and <= 255";
pub const COPY_SAME_OBJECT: &str = "ERR source and destination objects are the same";
pub const SWAPDB_FIRST_INDEX: &str = "ERR invalid first DB index";
pub const SWAPDB_SECOND_INDEX: &str = "ERR invalid second DB index";
pub const XREAD_LAST_ID_ZERO: &str = "ERR the stream last element ID is 0-0";
pub const TIMEOUT_NOT_INTEGER: &str = "ERR timeout is not an integer or out of range";
pub const TIMEOUT_NEGATIVE: &str = "ERR timeout is negative";
pub const MULTI_NESTED: &str = "ERR MULTI calls can not be nested";
pub const EXEC_WITHOUT_MULTI: &str = "ERR EXEC without MULTI";
pub const DISCARD_WITHOUT_MULTI: &str = "ERR DISCARD without MULTI";
pub const EXECABORT: &str = "EXECABORT Transaction discarded because of previous errors.";
pub const NOPROTO: &str = "NOPROTO unsupported protocol version";
/// A command that adds data, refused at `maxmemory` (`noeviction`).
pub const OOM: &str = "OOM command not allowed when used memory > 'maxmemory'.";
pub const WRONGPASS: &str = "WRONGPASS invalid username-password pair or user is disabled.";
pub const AUTH_NOT_CONFIGURED: &str = "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?";
/// A command other than `AUTH`, `HELLO`, `QUIT`, `RESET` before authenticating.
pub const NOAUTH: &str = "NOAUTH Authentication required.";
/// `HELLO` without `AUTH` before authenticating (Redis 7.2's wording).
pub const HELLO_NOAUTH: &str = "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time";
pub const INVALID_CURSOR: &str = "ERR invalid cursor";
/// `SHUTDOWN ABORT`: Sluice never delays a shutdown, so there is nothing to abort.
pub const SHUTDOWN_NOT_IN_PROGRESS: &str = "ERR No shutdown in progress.";
/// A container's handler reached without a subcommand: a bug in dispatch, not a panic.
pub const CONTAINER_WITHOUT_SUBCOMMAND: &str =
    "ERR internal error: container command called without a subcommand";
pub const EXPIRE_NX_CONFLICT: &str =
    "ERR NX and XX, GT or LT options at the same time are not compatible";
pub const EXPIRE_GT_LT_CONFLICT: &str = "ERR GT and LT options at the same time are not compatible";

// Streams (XADD and XTRIM's trimming options, XREAD, XSETID).
pub const TRIM_MAXLEN_AND_MINID: &str =
    "ERR syntax error, MAXLEN and MINID options at the same time are not compatible";
pub const MAXLEN_NEGATIVE: &str = "ERR The MAXLEN argument must be >= 0.";
pub const LIMIT_NEGATIVE: &str = "ERR The LIMIT argument must be >= 0.";
pub const LIMIT_WITHOUT_STRATEGY: &str =
    "ERR syntax error, LIMIT cannot be used without specifying a trimming strategy";
pub const XTRIM_WITHOUT_STRATEGY: &str =
    "ERR syntax error, XTRIM must be called with a trimming strategy";
pub const LIMIT_WITHOUT_APPROX: &str =
    "ERR syntax error, LIMIT cannot be used without the special ~ option";
pub const XREAD_GROUP_OPTION: &str =
    "ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead.";
pub const XREAD_NOACK_OPTION: &str =
    "ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead.";
/// `XREAD` without a balanced `STREAMS key … id …` list.
pub const XREAD_UNBALANCED: &str =
    "ERR Unbalanced 'xread' list of streams: for each stream key an ID or '$' must be specified.";
/// `XREAD … >`: `>` means "never delivered to the group", so it needs `XREADGROUP`.
pub const XREAD_NEW_ID_WITHOUT_GROUP: &str = "ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option.";
pub const XSETID_ENTRIES_ADDED_NEGATIVE: &str = "ERR entries_added must be positive";
/// `XREAD … CLAIM`: claiming needs a group (Redis 8.4 words it as for GROUP and NOACK).
pub const XREAD_CLAIM_OPTION: &str =
    "ERR The CLAIM option is only supported by XREADGROUP. You called XREAD instead.";
/// `XREADGROUP … CLAIM <min-idle-time>` with a negative time.
pub const CLAIM_MIN_IDLE_NEGATIVE: &str = "ERR min-idle-time must be a positive integer";
/// `XNACK … RETRYCOUNT <count>` with a negative count.
pub const XNACK_RETRYCOUNT_NEGATIVE: &str = "ERR Invalid RETRYCOUNT value";
// XADD's idempotency options and XCFGSET (Redis 8.6).
pub const IDMP_TWICE: &str = "ERR IDMP/IDMPAUTO specified multiple times";
pub const IDMP_EXPLICIT_ID: &str = "ERR IDMP/IDMPAUTO can be used only with auto-generated IDs";
pub const IDMP_EMPTY_PID: &str = "ERR IDMP requires a non-empty producer ID";
pub const IDMP_EMPTY_IID: &str = "ERR IDMP requires a non-empty idempotent ID";
pub const IDMPAUTO_EMPTY_PID: &str = "ERR IDMPAUTO requires a non-empty producer ID";
/// `XCFGSET key` without a parameter.
pub const XCFGSET_NO_PARAMETER: &str =
    "ERR At least one parameter must be specified: IDMP-DURATION or IDMP-MAXSIZE";
/// `XDELEX`/`XACKDEL`/`XNACK … IDS n`: `n` is not a positive integer.
pub const NUMIDS_NOT_POSITIVE: &str = "ERR Number of IDs must be a positive integer";
/// `XDELEX`/`XACKDEL`/`XNACK … IDS n`: another number than `n` IDs follow.
pub const NUMIDS_MISMATCH: &str = "ERR The `numids` parameter must match the number of arguments";

// Lists (LPOP/RPOP's count, LSET, LPOS, the blocking pops' timeout).
/// `LPOP`/`RPOP` with a count that is negative or not a number.
pub const COUNT_NOT_POSITIVE: &str = "ERR value is out of range, must be positive";
pub const INDEX_OUT_OF_RANGE: &str = "ERR index out of range";
pub const LPOS_RANK_ZERO: &str = "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list";
/// `LPOS … RANK` or `LREM`'s count of -9223372036854775808: a number whose opposite does not
/// exist.
pub const NOT_NEGATABLE: &str =
    "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807";
pub const LPOS_COUNT_NEGATIVE: &str = "ERR COUNT can't be negative";
pub const LPOS_MAXLEN_NEGATIVE: &str = "ERR MAXLEN can't be negative";
/// A blocking pop's timeout (seconds) that is not a number.
pub const TIMEOUT_NOT_FLOAT: &str = "ERR timeout is not a float or out of range";
/// A blocking pop's timeout whose deadline would overflow.
pub const TIMEOUT_OUT_OF_RANGE: &str = "ERR timeout is out of range";

// Consumer groups (XGROUP, XREADGROUP and the PEL commands).
/// `XREADGROUP` without a balanced `STREAMS key … id …` list.
pub const XREADGROUP_UNBALANCED: &str = "ERR Unbalanced 'xreadgroup' list of streams: for each stream key an ID or '>' must be specified.";

/// `ERR unknown subcommand or wrong number of arguments for '<sub>'. Try <CMD> HELP.`, Redis's
/// `addReplySubcommandSyntaxError` (`sub` as the client spelled it).
pub fn subcommand_syntax(command: &str, sub: &[u8]) -> CmdError {
    CmdError::err(format_args!(
        "unknown subcommand or wrong number of arguments for '{}'. Try {} HELP.",
        truncated(sub),
        command.to_ascii_uppercase()
    ))
}

/// The NOGROUP reply for `key` and `group` in one of Redis's three wordings.
pub fn no_group(wording: sluice_streams::NoGroupWording, key: &[u8], group: &[u8]) -> CmdError {
    CmdError(sluice_streams::no_group_text(wording, key, group))
}

/// `ERR Unrecognized XCLAIM option '<opt>'`.
pub fn xclaim_unrecognized(opt: &[u8]) -> CmdError {
    CmdError::err(format_args!(
        "Unrecognized XCLAIM option '{}'",
        String::from_utf8_lossy(opt).replace(['\r', '\n'], " ")
    ))
}

/// `ERR invalid expire time in '<name>' command`: the time overflows once made Unix ms.
pub fn invalid_expire_time(name: &str) -> CmdError {
    CmdError::err(format_args!("invalid expire time in '{name}' command"))
}

/// `ERR Unsupported option <opt>` (`EXPIRE`'s reply to an unknown flag), with line breaks
/// turned into spaces as Redis does, so the reply stays one line.
pub fn unsupported_option(opt: &[u8]) -> CmdError {
    let opt = String::from_utf8_lossy(opt).replace(['\r', '\n'], " ");
    CmdError::err(format_args!("Unsupported option {opt}"))
}

// Hashes and sets (HINCRBY…, HRANDFIELD, SRANDMEMBER, SPOP).
/// `HINCRBY` on a field whose value is not an integer.
pub const HASH_NOT_INTEGER: &str = "ERR hash value is not an integer";
/// `HINCRBYFLOAT` on a field whose value is not a number.
pub const HASH_NOT_FLOAT: &str = "ERR hash value is not a float";
/// `INCRBY`/`HINCRBY` past `i64`'s range.
pub const INCREMENT_OVERFLOW: &str = "ERR increment or decrement would overflow";
/// `HINCRBYFLOAT`'s increment is not a number.
pub const NOT_FLOAT: &str = "ERR value is not a valid float";
/// `HINCRBYFLOAT`'s increment is infinite.
pub const INCREMENT_NAN_OR_INFINITY: &str = "ERR value is NaN or Infinity";
/// An `INCRBYFLOAT`/`HINCRBYFLOAT` sum that is not a finite number.
pub const FLOAT_RESULT_NAN_OR_INFINITY: &str = "ERR increment would produce NaN or Infinity";
/// `HRANDFIELD`/`SRANDMEMBER`'s count outside `-LONG_MAX..=LONG_MAX` (`i64::MIN`).
pub const RANDOM_COUNT_RANGE: &str =
    "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807";
/// `HRANDFIELD … WITHVALUES` with a count whose pairs would overflow a `long`.
pub const OUT_OF_RANGE: &str = "ERR value is out of range";
/// `SPOP`'s count, negative or not an integer.
pub const NOT_POSITIVE: &str = "ERR value is out of range, must be positive";

/// A negative `HRANDFIELD`/`SRANDMEMBER` count past what Sluice picks with repetition (Redis
/// has no limit but its memory: Sluice builds each reply before sending it).
pub fn too_many_picks(max: u64) -> CmdError {
    CmdError::err(format_args!(
        "value is out of range, at most {max} random picks with repetition"
    ))
}

// Connection and server commands (HELLO, CLIENT, CONFIG).
pub const PROTOVER_NOT_INTEGER: &str = "ERR Protocol version is not an integer or out of range";
pub const CLIENT_NAME_INVALID: &str =
    "ERR Client names cannot contain spaces, newlines or special characters.";
pub const INVALID_CLIENT_ID: &str = "ERR Invalid client ID";
/// An integer that does not fit a C `int` (`SELECT`'s index).
pub const NOT_C_INT: &str =
    "ERR value is out of range, value must between -2147483648 and 2147483647";
/// `CONFIG SET` reasons, after `CONFIG SET failed (possibly related to argument '…') - `.
pub const CONFIG_IMMUTABLE: &str = "can't set immutable config";
pub const CONFIG_DUPLICATE: &str = "duplicate parameter";
pub const CONFIG_NOT_INTEGER: &str = "argument couldn't be parsed into an integer";
pub const CONFIG_NOT_MEMORY: &str = "argument must be a memory value";
pub const CONFIG_NOT_FSYNC_POLICY: &str =
    "argument(s) must be one of the following: always, everysec, no";
pub const CONFIG_NOT_YES_NO: &str = "argument must be 'yes' or 'no'";

/// `ERR Syntax error in HELLO option '<opt>'`.
pub fn hello_syntax(opt: &[u8]) -> CmdError {
    CmdError::err(format_args!(
        "Syntax error in HELLO option '{}'",
        truncated(opt)
    ))
}

/// `ACL SETUSER` with a name Redis would not accept.
pub const ACL_USERNAME_SPACES: &str = "ERR Usernames can't contain spaces or null characters";
/// `ACL DELUSER default`.
pub const ACL_DEFAULT_USER_KEPT: &str = "ERR The 'default' user cannot be removed";
/// `ACL LOAD` or `ACL SAVE` without an `aclfile`.
pub const ACL_NO_FILE: &str = "ERR This Redis instance is not configured to use an ACL file. You may want to specify users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a Redis configuration file set) in order to store users in the Redis configuration.";
/// `ACL SAVE` could not write the file (the reason is in the server's log).
pub const ACL_SAVE_FAILED: &str = "ERR There was an error trying to save the ACLs. Please check the server logs for more information";
/// `ACL GENPASS` with a size out of range.
pub const ACL_GENPASS_BITS: &str = "ERR ACL GENPASS argument must be the number of bits for the output password, a positive number up to 4096";
/// `ACL GENPASS` when the OS has no random bytes to give (Sluice's own).
pub const ACL_GENPASS_NO_RANDOM: &str =
    "ERR ACL GENPASS could not read random bytes from the OS; see the server's log";
/// Start-up with an `aclfile` and users declared in the configuration, as Redis refuses it.
pub const ACL_FILE_AND_USERS: &str = "Configuring Redis with users defined in redis.conf and at the same setting an ACL file path is invalid. This setup is very likely to lead to configuration errors and security holes, please define either an ACL file or declare users directly in your redis.conf, but not both.";

/// `ERR User '<name>' not found` (`ACL DRYRUN`).
pub fn acl_user_not_found(name: &[u8]) -> CmdError {
    CmdError::err(format_args!(
        "User '{}' not found",
        String::from_utf8_lossy(name)
    ))
}

/// `ERR Command '<name>' not found` (`ACL DRYRUN`, for a command or a subcommand).
pub fn acl_command_not_found(name: &[u8]) -> CmdError {
    CmdError::err(format_args!(
        "Command '{}' not found",
        String::from_utf8_lossy(name)
    ))
}

/// `ERR Unknown category '<name>'` (`ACL CAT`).
pub fn unknown_acl_category(name: &[u8]) -> CmdError {
    CmdError::err(format_args!("Unknown category '{}'", truncated(name)))
}

/// The text of an error built from client input, made one line as Redis's
/// `addReplyErrorSdsSafe` makes it.
pub fn one_line(text: &str) -> String {
    text.replace(['\r', '\n'], " ")
}

/// `ERR Unknown client type '<type>'` (`CLIENT LIST TYPE`).
pub fn unknown_client_type(kind: &[u8]) -> CmdError {
    CmdError::err(format_args!("Unknown client type '{}'", truncated(kind)))
}

/// `ERR Unrecognized option '<attr>'` (`CLIENT SETINFO`).
pub fn setinfo_unrecognized(attr: &[u8]) -> CmdError {
    CmdError::err(format_args!("Unrecognized option '{}'", truncated(attr)))
}

/// `ERR <attr> cannot contain spaces, newlines or special characters.` (`CLIENT SETINFO`,
/// `attr` as the client spelled it).
pub fn setinfo_invalid(attr: &[u8]) -> CmdError {
    CmdError::err(format_args!(
        "{} cannot contain spaces, newlines or special characters.",
        truncated(attr)
    ))
}

/// `ERR Unknown option or number of arguments for CONFIG SET - '<name>'`.
pub fn config_set_unknown(name: &[u8]) -> CmdError {
    CmdError::err(format_args!(
        "Unknown option or number of arguments for CONFIG SET - '{}'",
        truncated(name)
    ))
}

/// `ERR CONFIG SET failed (possibly related to argument '<name>') - <reason>`.
pub fn config_set_failed(name: &str, reason: &str) -> CmdError {
    CmdError::err(format_args!(
        "CONFIG SET failed (possibly related to argument '{name}') - {reason}"
    ))
}

/// The `CONFIG SET` reason for a value outside a setting's list (`names`: comma-separated).
pub fn config_not_one_of(names: &str) -> String {
    format!("argument(s) must be one of the following: {names}")
}

/// The `CONFIG SET` reason for a number outside a setting's range.
pub fn config_range(min: u64, max: u64) -> String {
    format!("argument must be between {min} and {max} inclusive")
}

/// `ERR <error>`: `SAVE` or `BGSAVE` could not save (or start saving); the text is the
/// snapshot's own.
pub fn save_failed(e: &dyn std::fmt::Display) -> CmdError {
    CmdError::err(e)
}

/// `ERR Errors trying to SHUTDOWN. Check logs. (<error>)`: `SHUTDOWN SAVE` could not save.
pub fn shutdown_save_failed(e: &dyn std::fmt::Display) -> CmdError {
    CmdError::err(format_args!("Errors trying to SHUTDOWN. Check logs. ({e})"))
}

/// `ERR internal error: '<name>' must be handled by the connection`: `MULTI`, `EXEC` or
/// `DISCARD` reached dispatch, a bug in the server reported rather than a panic.
pub fn transaction_misrouted(name: &[u8]) -> CmdError {
    CmdError::err(format_args!(
        "internal error: '{}' must be handled by the connection",
        String::from_utf8_lossy(name).to_ascii_lowercase()
    ))
}

// Sluice's own commands (SLUICE).
/// `SLUICE REASSIGN` with a negative `time-ms`.
pub const REASSIGN_TIME_NEGATIVE: &str = "ERR time-ms must not be negative";

/// `ERR reload: <error>`: `SLUICE RELOAD` could not read or apply the routes or plugins.
pub fn reload_failed(e: &dyn std::fmt::Display) -> CmdError {
    CmdError::err(format_args!("reload: {e}"))
}
