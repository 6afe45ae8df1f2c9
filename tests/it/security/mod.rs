//! Security and hostile input: ACL users and permissions, TLS, protected mode, malformed and
//! fuzzed requests.

pub mod acl;
mod acl_blocked;
mod acl_log;
mod acl_perms;
mod aclfile;
mod fuzz_corpus;
mod fuzzish;
mod hostile;
mod protected_mode;
mod tls;
