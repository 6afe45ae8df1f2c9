//! Why the broker could not open its data or start: the one error enum of this crate. Each
//! says what the operator should do.

/// A failure opening the broker.
#[derive(Debug, thiserror::Error)]
pub enum BrokerError {
    /// A setting has a value the broker cannot use.
    #[error("invalid setting: {0}")]
    Invalid(String),
    /// The data folder could not be opened or its contents read back.
    #[error("data folder: {0}")]
    Storage(#[from] sluice_storage::Error),
    /// The data folder's contents could not be replayed.
    #[error(
        "recovery: {0} (the data folder was written by a newer or damaged Sluice; keep a copy before changing it)"
    )]
    Recovery(String),
}
