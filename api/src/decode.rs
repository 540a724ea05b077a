//! How many images are decoded at once. A decoded photo takes far more memory than its
//! file (a 50-megapixel image is 150–400 MB of pixels however small it was compressed), so
//! checking uploads and preparing photos for recognition wait for one of a few permits
//! (`MAX_IMAGE_DECODES`) instead of all decoding together.

use std::sync::Arc;

use anyhow::Context as _;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The permits; clones share them.
#[derive(Clone, Debug)]
pub struct Decodes {
    permits: Arc<Semaphore>,
}

impl Decodes {
    pub fn new(at_once: usize) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(at_once.max(1))),
        }
    }

    /// Runs `decode` on a blocking thread once a permit is free (see [`Permit::run`]).
    pub async fn run<T, F>(&self, decode: F) -> anyhow::Result<T>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        self.permit().await?.run(decode).await
    }

    /// Waits for a permit, to hold while reading what is to be decoded.
    pub async fn permit(&self) -> anyhow::Result<Permit> {
        let permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .context("the decode permits were closed")?;
        Ok(Permit { _held: permit })
    }

    /// Permits free right now.
    pub fn available(&self) -> usize {
        self.permits.available_permits()
    }
}

/// The right to decode one image now; given back when dropped.
#[derive(Debug)]
pub struct Permit {
    _held: OwnedSemaphorePermit,
}

impl Permit {
    /// Runs `decode` on a blocking thread. The permit goes with the work onto that thread
    /// and is given back only when the work ends, even if the request that asked for it is
    /// gone by then.
    pub async fn run<T, F>(self, decode: F) -> anyhow::Result<T>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        tokio::task::spawn_blocking(move || {
            let value = decode();
            drop(self);
            value
        })
        .await
        .context("decoding an image stopped")
    }
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc;

    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_permit_is_held_until_the_decode_ends_even_when_its_request_is_gone() {
        let decodes = Decodes::new(1);
        let (started_tx, started_rx) = mpsc::channel();
        let (finish_tx, finish_rx) = mpsc::channel::<()>();
        let request = tokio::spawn({
            let decodes = decodes.clone();
            async move {
                decodes
                    .run(move || {
                        started_tx.send(()).unwrap();
                        finish_rx.recv().unwrap();
                    })
                    .await
            }
        });
        tokio::task::spawn_blocking(move || started_rx.recv().unwrap())
            .await
            .unwrap();
        // The person stops waiting: the decode goes on, and so does its permit.
        request.abort();
        assert!(request.await.unwrap_err().is_cancelled());
        assert_eq!(decodes.available(), 0);

        // A second decode waits for the first one's permit.
        let second = tokio::spawn({
            let decodes = decodes.clone();
            async move { decodes.run(|| "second").await.unwrap() }
        });
        assert_eq!(decodes.available(), 0);
        finish_tx.send(()).unwrap();
        assert_eq!(second.await.unwrap(), "second");
        assert_eq!(decodes.available(), 1);
    }
}
