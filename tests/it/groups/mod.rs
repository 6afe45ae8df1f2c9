//! Consumer groups: group reads and acknowledgements, blocked group reads, pending-entry
//! commands, and their error replies.

mod ackdel;
mod block;
mod claim_option;
mod errors;
mod pel;
mod reads;
mod xnack;
