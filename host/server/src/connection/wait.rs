//! A connection parked in a blocking command (`XREAD … BLOCK`): waiting for a writer's
//! answer or the timeout while watching the socket, so a client that leaves, or sends more
//! than `client-query-buffer-limit` meanwhile, or whose user is deleted, ends the wait.

use std::sync::atomic::Ordering;

use sluice_resp::Reply;
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::time::Instant;

use super::Connection;
use sluice_broker::ready::BlockRequest;

impl Connection {
    /// Waits for a blocked read's answer. `None`: the client went away.
    pub(super) async fn wait<S>(
        &mut self,
        socket: &mut S,
        request: BlockRequest,
    ) -> std::io::Result<Option<Reply>>
    where
        S: AsyncRead + Unpin,
    {
        let deadline = request.timeout.map(|t| Instant::now() + t);
        let registration = {
            let _gate = self.shared.broker.keyspace.gate.read();
            self.shared
                .broker
                .blocking
                .register(&self.shared.broker, request, self.state.proto)
        };
        let mut registration = match registration {
            Ok(registration) => registration,
            Err(reply) => return Ok(Some(reply)),
        };
        let info = self.state.info.clone();
        info.blocked.store(true, Ordering::Relaxed);
        let result = loop {
            tokio::select! {
                reply = &mut registration.reply => break Ok(Some(reply.unwrap_or(Reply::NullArray))),
                () = sleep_until(deadline) => {
                    break Ok(Some(match self.shared.broker.blocking.cancel(registration.id) {
                        Some(reply) => reply,
                        // A writer answered just now: its reply is in the channel.
                        None => registration.reply.try_recv().unwrap_or(Reply::NullArray),
                    }));
                }
                () = info.user_changed.notified() => {
                    // The user was deleted: the connection closes, as Redis closes it.
                    if self.state.session.user_gone(&self.shared.acl) {
                        break Ok(None);
                    }
                }
                read = socket.read_buf(&mut self.input) => {
                    // Requests sent meanwhile wait their turn; a closed socket ends the wait.
                    match read {
                        Ok(n) if n > 0 => match self.check_query_buffer() {
                            Ok(()) => continue,
                            Err(e) => break Err(e),
                        },
                        Ok(_) => break Ok(None),
                        Err(e) => break Err(e),
                    }
                }
            }
        };
        if !matches!(result, Ok(Some(_))) {
            let _ = self.shared.broker.blocking.cancel(registration.id);
        }
        info.blocked.store(false, Ordering::Relaxed);
        result
    }
}

async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}
