//! Accepting peers: Iroh's [`Router`] runs the accept loop and hands connections of the
//! sync ALPNs (compressed frames preferred) to [`Acceptor`], which runs each as a tracked
//! task of the engine.

use std::sync::Arc;

use iroh::endpoint::{Accepting, Connection};
use iroh::protocol::{AcceptError, ProtocolHandler, Router};

use super::connection::{self, CLOSE_ERROR, Ending, HANDSHAKE, close};
use super::{Shared, wire};

/// Starts accepting connections of the sync protocol on the engine's endpoint.
pub(super) fn router(shared: Arc<Shared>) -> Router {
    // The router offers the protocols in the order they are added: the preferred first.
    let builder = Router::builder(shared.endpoint.clone());
    wire::ACCEPTED
        .into_iter()
        .fold(builder, |b, alpn| b.accept(alpn, Acceptor { shared: shared.clone() }))
        .spawn()
}

struct Acceptor {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Acceptor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Acceptor").finish_non_exhaustive()
    }
}

impl ProtocolHandler for Acceptor {
    /// The QUIC and TLS handshake, bounded as a dial is.
    async fn on_accepting(&self, accepting: Accepting) -> Result<Connection, AcceptError> {
        match tokio::time::timeout(HANDSHAKE, accepting).await {
            Ok(conn) => Ok(conn?),
            Err(_) => Err(AcceptError::from_err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "incoming connection timed out",
            ))),
        }
    }

    /// Hands the connection to a task of the engine, so that stopping waits for it.
    async fn accept(&self, conn: Connection) -> Result<(), AcceptError> {
        self.shared.tasks.spawn(accepted(self.shared.clone(), conn));
        Ok(())
    }
}

/// Waits for the dialer's stream, then runs the connection until it ends.
async fn accepted(shared: Arc<Shared>, conn: Connection) {
    let peer = conn.remote_id();
    let streams = tokio::select! {
        r = tokio::time::timeout(HANDSHAKE, conn.accept_bi()) => r,
        () = shared.stopped() => {
            Ending::Stopping.close(&conn);
            return;
        }
    };
    match streams {
        Ok(Ok((send, recv))) => {
            let stopped = shared.stopped();
            let ending = async {
                stopped.await;
                Ending::Stopping
            };
            connection::run(&shared, conn, peer, false, send, recv, ending).await;
        }
        _ => {
            tracing::debug!("peer {} opened no stream", peer.fmt_short());
            close(&conn, CLOSE_ERROR, "no stream");
        }
    }
}
