//! A TCP proxy on loopback that adds latency without taking bandwidth away, and counts
//! the turns of each conversation through it: what a database a few milliseconds away
//! costs a server, measured from outside the server.
//!
//! Each direction of each connection has a reader and a writer thread. The reader stamps
//! every chunk it reads with the moment it is due (`one_way` later) and hands it on at once;
//! the writer sends each chunk when it is due. Chunks in flight overlap, so a large transfer
//! takes about as long as without the proxy plus `one_way`, not a sleep per chunk.
//!
//! A round trip is counted on each connection when data from the client arrives after data
//! from the server was last seen (a new turn of the conversation), and for the client's first
//! chunk.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::AtomicU8;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::Result;

/// Bytes one read takes at most.
const CHUNK: usize = 64 * 1024;

pub(crate) struct DelayProxy {
    addr: String,
    round_trips: Arc<AtomicU64>,
    stopping: Arc<AtomicBool>,
    /// Both ends of every connection open, to be shut when the proxy stops.
    open: Open,
    accepting: Option<JoinHandle<()>>,
}

impl DelayProxy {
    /// Listens on a free loopback port and forwards each connection to `upstream`
    /// (`host:port`), every chunk in either direction `one_way` late.
    pub(crate) fn start(upstream: &str, one_way: Duration) -> Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("proxy: {e}"))?;
        let addr = listener
            .local_addr()
            .map_err(|e| format!("proxy: {e}"))?
            .to_string();
        let round_trips = Arc::new(AtomicU64::new(0));
        let stopping = Arc::new(AtomicBool::new(false));
        let open = Open::default();
        let upstream = upstream.to_string();
        let accepting = {
            let (round_trips, stopping, open) =
                (round_trips.clone(), stopping.clone(), open.clone());
            std::thread::spawn(move || {
                for (id, client) in (0u64..).zip(listener.incoming()) {
                    if stopping.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(client) = client else { continue };
                    let Ok(server) = TcpStream::connect(&upstream) else {
                        let _ = client.shutdown(Shutdown::Both);
                        continue;
                    };
                    if let Err(e) = relay(id, client, server, one_way, &round_trips, &open) {
                        eprintln!("delay proxy: {e}");
                    }
                }
            })
        };
        Ok(Self {
            addr,
            round_trips,
            stopping,
            open,
            accepting: Some(accepting),
        })
    }

    /// `127.0.0.1:<port>`, where it listens.
    pub(crate) fn addr(&self) -> &str {
        &self.addr
    }

    /// Round trips seen so far, over all connections.
    pub(crate) fn round_trips(&self) -> u64 {
        self.round_trips.load(Ordering::SeqCst)
    }
}

impl Drop for DelayProxy {
    fn drop(&mut self) {
        self.stopping.store(true, Ordering::SeqCst);
        // Wakes the accepting thread, which then sees it is stopping.
        let _ = TcpStream::connect(&self.addr);
        if let Some(accepting) = self.accepting.take() {
            let _ = accepting.join();
        }
        if let Ok(open) = self.open.lock() {
            for stream in open.values().flatten() {
                let _ = stream.shutdown(Shutdown::Both);
            }
        }
    }
}

/// The connections open, by number: client and server end.
type Open = Arc<Mutex<HashMap<u64, [TcpStream; 2]>>>;

/// Starts the four threads of connection `id`.
fn relay(
    id: u64,
    client: TcpStream,
    server: TcpStream,
    one_way: Duration,
    round_trips: &Arc<AtomicU64>,
    open: &Open,
) -> std::io::Result<()> {
    for stream in [&client, &server] {
        stream.set_nodelay(true)?;
    }
    if let Ok(mut open) = open.lock() {
        open.insert(id, [client.try_clone()?, server.try_clone()?]);
    }
    // The directions still going; the last to end forgets the connection.
    let going = Arc::new(AtomicU8::new(2));
    let ended = {
        let open = open.clone();
        move || {
            if going.fetch_sub(1, Ordering::SeqCst) == 1
                && let Ok(mut open) = open.lock()
            {
                open.remove(&id);
            }
        }
    };
    // Whether the server spoke last; true at first, so the client's first chunk counts.
    let server_spoke = Arc::new(AtomicBool::new(true));
    let to_server = {
        let (round_trips, server_spoke) = (round_trips.clone(), server_spoke.clone());
        move |_: &[u8]| {
            if server_spoke.swap(false, Ordering::SeqCst) {
                round_trips.fetch_add(1, Ordering::SeqCst);
            }
        }
    };
    let to_client = move |_: &[u8]| server_spoke.store(true, Ordering::SeqCst);
    direction(
        client.try_clone()?,
        server.try_clone()?,
        one_way,
        to_server,
        ended.clone(),
    );
    direction(server, client, one_way, to_client, ended);
    Ok(())
}

/// A chunk and when it is due; `None` for the end of the stream.
type Due = (Instant, Option<Vec<u8>>);

/// Reads `from` and writes to `to`, each chunk `one_way` after it was read; `seen` is told
/// of each chunk as it arrives, `ended` when this direction is done.
fn direction(
    mut from: TcpStream,
    to: TcpStream,
    one_way: Duration,
    seen: impl Fn(&[u8]) + Send + 'static,
    ended: impl FnOnce() + Send + 'static,
) {
    let (send, receive): (Sender<Due>, Receiver<Due>) = channel();
    let source = from.try_clone();
    std::thread::spawn(move || {
        let mut buffer = vec![0u8; CHUNK];
        loop {
            match from.read(&mut buffer) {
                Ok(0) | Err(_) => {
                    let _ = send.send((Instant::now() + one_way, None));
                    break;
                }
                Ok(n) => {
                    let chunk = &buffer[..n];
                    seen(chunk);
                    if send
                        .send((Instant::now() + one_way, Some(chunk.to_vec())))
                        .is_err()
                    {
                        // The writer gave up: the other side is gone.
                        let _ = from.shutdown(Shutdown::Both);
                        break;
                    }
                }
            }
        }
    });
    std::thread::spawn(move || {
        let mut to = to;
        for (due, chunk) in receive {
            let wait = due.saturating_duration_since(Instant::now());
            if !wait.is_zero() {
                std::thread::sleep(wait);
            }
            match chunk {
                Some(bytes) => {
                    if to.write_all(&bytes).is_err() {
                        let _ = to.shutdown(Shutdown::Both);
                        if let Ok(source) = &source {
                            let _ = source.shutdown(Shutdown::Both);
                        }
                        break;
                    }
                }
                None => {
                    let _ = to.shutdown(Shutdown::Write);
                    break;
                }
            }
        }
        ended();
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An echo server on loopback; answers its address.
    fn echo() -> String {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                std::thread::spawn(move || {
                    let mut reader = stream.try_clone().unwrap();
                    let _ = std::io::copy(&mut reader, &mut stream);
                    let _ = stream.shutdown(Shutdown::Write);
                });
            }
        });
        addr
    }

    fn exchange(stream: &mut TcpStream, message: &[u8]) {
        stream.write_all(message).unwrap();
        let mut answer = vec![0u8; message.len()];
        stream.read_exact(&mut answer).unwrap();
        assert_eq!(answer, message);
    }

    #[test]
    fn an_exchange_takes_a_round_trip_of_latency() {
        let one_way = Duration::from_millis(20);
        let proxy = DelayProxy::start(&echo(), one_way).unwrap();
        let mut stream = TcpStream::connect(proxy.addr()).unwrap();
        stream.set_nodelay(true).unwrap();
        let started = Instant::now();
        exchange(&mut stream, b"ping");
        assert!(started.elapsed() >= one_way * 2, "{:?}", started.elapsed());
        assert_eq!(proxy.round_trips(), 1);
    }

    #[test]
    fn sequential_exchanges_count_one_round_trip_each() {
        let proxy = DelayProxy::start(&echo(), Duration::from_millis(1)).unwrap();
        let mut stream = TcpStream::connect(proxy.addr()).unwrap();
        stream.set_nodelay(true).unwrap();
        for n in 0..10 {
            exchange(&mut stream, format!("request {n}").as_bytes());
        }
        assert_eq!(proxy.round_trips(), 10);
        // A second connection counts on its own.
        let mut other = TcpStream::connect(proxy.addr()).unwrap();
        exchange(&mut other, b"once more");
        assert_eq!(proxy.round_trips(), 11);
    }

    #[test]
    fn a_large_transfer_is_not_slowed_chunk_by_chunk() {
        let one_way = Duration::from_millis(5);
        let proxy = DelayProxy::start(&echo(), one_way).unwrap();
        let stream = TcpStream::connect(proxy.addr()).unwrap();
        let mut reader = stream.try_clone().unwrap();
        const SIZE: usize = 10 * 1024 * 1024;
        let started = Instant::now();
        let writer = std::thread::spawn(move || {
            let mut stream = stream;
            let block = vec![7u8; 16 * 1024];
            for _ in 0..SIZE / block.len() {
                stream.write_all(&block).unwrap();
            }
            stream.shutdown(Shutdown::Write).unwrap();
        });
        let mut received = 0;
        let mut buffer = vec![0u8; CHUNK];
        let mut reads = 0u32;
        loop {
            let n = reader.read(&mut buffer).unwrap();
            if n == 0 {
                break;
            }
            received += n;
            reads += 1;
        }
        writer.join().unwrap();
        let took = started.elapsed();
        assert_eq!(received, SIZE);
        // Sleeping one_way for each chunk, one after another, would take at least this
        // long; overlapping chunks take a small part of it.
        let serialized = one_way * reads.max((SIZE / CHUNK) as u32);
        assert!(
            took * 4 < serialized,
            "{received} bytes in {reads} reads took {took:?}; one sleep per chunk: {serialized:?}"
        );
    }

    #[test]
    fn it_stops_when_dropped() {
        let proxy = DelayProxy::start(&echo(), Duration::from_millis(1)).unwrap();
        let addr = proxy.addr().to_string();
        let mut stream = TcpStream::connect(&addr).unwrap();
        exchange(&mut stream, b"hello");
        drop(proxy);
        let mut buffer = [0u8; 8];
        // The open connection is closed, and no new one is accepted.
        assert!(matches!(stream.read(&mut buffer), Ok(0) | Err(_)));
        assert!(TcpStream::connect(&addr).is_err());
    }
}
