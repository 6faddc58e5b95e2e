//! A private Tokio runtime on a thread of its own, for the Redis replay
//! cache's network I/O.
//!
//! The caller's executor only awaits a one-shot channel, which needs no
//! runtime driver: a check works the same from a multi-thread runtime, a
//! current-thread runtime built without timers or without I/O, or an
//! executor that is not Tokio at all. Tokio offers no public query for
//! which drivers a runtime has, so depending on the caller's would turn a
//! runtime built without them into a panic inside `tokio::time` or the
//! TCP connect.

use std::future::Future;

use tokio::runtime::{Builder, Handle};
use tokio::sync::oneshot;

use crate::error::{Error, ErrorKind};

/// A current-thread runtime with I/O and timers, driven by its own thread
/// until this value is dropped.
pub(crate) struct IoThread {
    handle: Handle,
    /// Dropping it ends the thread (and the tasks still on it).
    _stop: oneshot::Sender<()>,
}

impl IoThread {
    /// Starts the thread, named `name`, and its runtime, which is built,
    /// driven and dropped on that thread only (never on the caller's,
    /// which may be inside another runtime).
    pub(crate) fn start(name: &str) -> Result<Self, Error> {
        let (ready, handle) = std::sync::mpsc::channel();
        let (stop, stopped) = oneshot::channel::<()>();
        std::thread::Builder::new()
            .name(name.to_owned())
            .spawn(move || {
                let runtime = match Builder::new_current_thread().enable_all().build() {
                    Ok(runtime) => runtime,
                    Err(e) => return drop(ready.send(Err(e))),
                };
                if ready.send(Ok(runtime.handle().clone())).is_ok() {
                    runtime.block_on(async {
                        let _ = stopped.await;
                    });
                }
            })
            .map_err(|e| Error::with_source(ErrorKind::ReplayStoreUnavailable, e))?;
        let handle = handle
            .recv()
            .map_err(|_| {
                Error::detail(
                    ErrorKind::ReplayStoreUnavailable,
                    "the Redis I/O thread did not start",
                )
            })?
            .map_err(|e| Error::with_source(ErrorKind::ReplayStoreUnavailable, e))?;
        Ok(Self {
            handle,
            _stop: stop,
        })
    }

    /// Runs `task` on the I/O thread; the returned future may be awaited on
    /// any executor. A thread that has stopped answers
    /// [`ErrorKind::ReplayStoreUnavailable`].
    pub(crate) async fn run<T, F>(&self, task: F) -> Result<T, Error>
    where
        T: Send + 'static,
        F: Future<Output = Result<T, Error>> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        drop(self.handle.spawn(async move {
            let _ = tx.send(task.await);
        }));
        rx.await.unwrap_or_else(|_| {
            Err(Error::detail(
                ErrorKind::ReplayStoreUnavailable,
                "the Redis I/O thread has stopped",
            ))
        })
    }
}
