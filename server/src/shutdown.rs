//! The signals the server obeys: SIGTERM and SIGINT stop it gracefully; SIGHUP reloads the
//! users file. Handlers are installed before the server says it is listening, so a signal
//! sent right after that line is never lost.

use std::io;

#[cfg(unix)]
use tokio::signal::unix::{signal, Signal, SignalKind};

/// SIGTERM and SIGINT, installed.
pub struct Shutdown {
    #[cfg(unix)]
    term: Signal,
    #[cfg(unix)]
    int: Signal,
}

impl Shutdown {
    pub fn install() -> io::Result<Shutdown> {
        Ok(Shutdown {
            #[cfg(unix)]
            term: signal(SignalKind::terminate())?,
            #[cfg(unix)]
            int: signal(SignalKind::interrupt())?,
        })
    }

    /// Resolves at the first SIGTERM or SIGINT, with its name.
    pub async fn recv(mut self) -> &'static str {
        #[cfg(unix)]
        {
            tokio::select! {
                _ = self.term.recv() => "SIGTERM",
                _ = self.int.recv() => "SIGINT",
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
            "Ctrl-C"
        }
    }
}

/// Calls `reload` at every SIGHUP, for as long as the runtime lives.
pub fn on_hangup(reload: impl Fn() + Send + 'static) -> io::Result<()> {
    #[cfg(unix)]
    {
        let mut hup = signal(SignalKind::hangup())?;
        tokio::spawn(async move {
            while hup.recv().await.is_some() {
                reload();
            }
        });
    }
    #[cfg(not(unix))]
    let _ = reload;
    Ok(())
}
