//! A field-link simulator: a user-space UDP forwarder that stands between nodes, so that every
//! datagram from one node to another crosses a simulated radio link. The kernel here has no
//! netem, so loss, delay, jitter, a rate cap with a bounded drop-tail queue and partitions are
//! all made here, with byte and packet counters per direction.
//!
//! - [`Link`]: the model of one direction, a pure function of the time and the datagram size
//!   (and a seeded RNG, so a run replays), unit-tested below.
//! - [`LinkSim`]: the forwarder. Node `i` (really at `peers[i]`) is given the port
//!   `sockets[i]`; a datagram that arrives on port `i` from node `j` crosses link `j -> i` and
//!   leaves from port `j` to node `i`. So every node sees every other node at the other
//!   node's port of the simulator, and replies come back through it as well.
//!
//! The simulator only needs bound sockets: [`crate::hosts::Field`] binds them inside a router
//! namespace with no route between the hosts, so the simulator is the only path. Shared with
//! `benches/chaos.rs` (included there with `#[path]`).

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::net::{SocketAddr, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};

/// What one direction of a link does to datagrams.
#[derive(Clone, Copy, Debug)]
pub struct LinkConfig {
    /// Probability that a datagram is lost, 0.0 to 1.0.
    pub loss: f64,
    /// Fixed one-way delay.
    pub delay: Duration,
    /// Extra delay, uniform in `0..=jitter` per datagram (so datagrams may be reordered).
    pub jitter: Duration,
    /// Rate cap in bytes per second; `None` for no cap.
    pub rate: Option<u64>,
    /// Bytes that may wait for the rate cap; a datagram that would exceed it is dropped.
    pub queue: usize,
}

impl Default for LinkConfig {
    /// A perfect link: no loss, no delay, no cap.
    fn default() -> Self {
        Self { loss: 0.0, delay: Duration::ZERO, jitter: Duration::ZERO, rate: None, queue: 256 * 1024 }
    }
}

/// What happened to the datagrams offered to one direction of a link.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counters {
    /// Datagrams and bytes offered to the link.
    pub offered: u64,
    pub offered_bytes: u64,
    /// Datagrams and bytes passed on (sent after their delay).
    pub passed: u64,
    pub passed_bytes: u64,
    /// Datagrams dropped by random loss, by a full queue, by the blackhole switch.
    pub lost: u64,
    pub overflowed: u64,
    pub blackholed: u64,
}

impl std::ops::AddAssign for Counters {
    fn add_assign(&mut self, o: Self) {
        self.offered += o.offered;
        self.offered_bytes += o.offered_bytes;
        self.passed += o.passed;
        self.passed_bytes += o.passed_bytes;
        self.lost += o.lost;
        self.overflowed += o.overflowed;
        self.blackholed += o.blackholed;
    }
}

/// The fate of one datagram.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Send it at this instant.
    Pass(Instant),
    /// Dropped, and why.
    Lost,
    Overflowed,
    Blackholed,
}

/// One direction of a link.
pub struct Link {
    pub config: LinkConfig,
    /// The partition switch: while on, every datagram is dropped.
    pub blackhole: bool,
    pub counters: Counters,
    /// When the rate cap has sent everything queued so far.
    busy_until: Option<Instant>,
    rng: Xoshiro256PlusPlus,
}

impl Link {
    pub fn new(config: LinkConfig, seed: u64) -> Self {
        Self {
            config,
            blackhole: false,
            counters: Counters::default(),
            busy_until: None,
            rng: Xoshiro256PlusPlus::seed_from_u64(seed),
        }
    }

    /// A datagram of `len` bytes offered at `now`: when to send it, or why it is dropped.
    pub fn offer(&mut self, now: Instant, len: usize) -> Verdict {
        let c = &mut self.counters;
        c.offered += 1;
        c.offered_bytes += len as u64;
        if self.blackhole {
            c.blackholed += 1;
            return Verdict::Blackholed;
        }
        if self.config.loss > 0.0 && self.rng.random_bool(self.config.loss.min(1.0)) {
            c.lost += 1;
            return Verdict::Lost;
        }
        let departs = match self.config.rate {
            None => now,
            Some(rate) => {
                // What still waits to be sent is the backlog; drop-tail when it would overflow.
                let start = self.busy_until.map_or(now, |busy| busy.max(now));
                let backlog = (start - now).as_secs_f64() * rate as f64;
                if backlog + len as f64 > self.config.queue as f64 {
                    c.overflowed += 1;
                    return Verdict::Overflowed;
                }
                let departs = start + Duration::from_secs_f64(len as f64 / rate as f64);
                self.busy_until = Some(departs);
                departs
            }
        };
        let jitter = self.config.jitter.mul_f64(self.rng.random::<f64>());
        c.passed += 1;
        c.passed_bytes += len as u64;
        Verdict::Pass(departs + self.config.delay + jitter)
    }
}

/// A datagram waiting for its time, from port `from` to node `to`.
struct Pending {
    at: Instant,
    seq: u64,
    from: usize,
    to: usize,
    data: Vec<u8>,
}

impl PartialEq for Pending {
    fn eq(&self, o: &Self) -> bool {
        (self.at, self.seq) == (o.at, o.seq)
    }
}
impl Eq for Pending {}
impl PartialOrd for Pending {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Pending {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        (self.at, self.seq).cmp(&(o.at, o.seq))
    }
}

/// What the forwarder's threads share.
struct Shared {
    /// `links[from][to]`.
    links: Mutex<Vec<Vec<Link>>>,
    /// Where node `i` really is.
    peers: Vec<SocketAddr>,
    /// Port `i` of the simulator: node `i` is reached there, and sends to others from there.
    sockets: Vec<UdpSocket>,
    /// Datagrams in flight, soonest first, and a sequence number to keep equal times in order.
    timers: Mutex<(BinaryHeap<Reverse<Pending>>, u64)>,
    wake: Condvar,
    stop: AtomicBool,
}

/// The forwarder: one thread per port receiving, one timer thread sending. Dropping it stops
/// them and closes its ports.
pub struct LinkSim {
    shared: Arc<Shared>,
    threads: Vec<JoinHandle<()>>,
}

impl LinkSim {
    /// Forwards between `peers` (node `i` really at `peers[i]`) through `sockets` (node `i`
    /// is reached at `sockets[i]`), every direction with `config`; link `j -> i` draws from an
    /// RNG seeded with `seed`, `j` and `i`.
    pub fn start(peers: Vec<SocketAddr>, sockets: Vec<UdpSocket>, config: LinkConfig, seed: u64) -> Self {
        assert_eq!(peers.len(), sockets.len(), "one port per node");
        let n = peers.len();
        let links = (0..n)
            .map(|from| {
                (0..n).map(|to| Link::new(config, seed ^ ((from as u64) << 32 | to as u64))).collect()
            })
            .collect();
        let shared = Arc::new(Shared {
            links: Mutex::new(links),
            peers,
            sockets,
            timers: Mutex::new((BinaryHeap::new(), 0)),
            wake: Condvar::new(),
            stop: AtomicBool::new(false),
        });
        let mut threads: Vec<JoinHandle<()>> = (0..n)
            .map(|port| {
                let shared = shared.clone();
                std::thread::Builder::new()
                    .name(format!("linksim port {port}"))
                    .spawn(move || receive(&shared, port))
                    .expect("thread")
            })
            .collect();
        let timer = shared.clone();
        threads.push(
            std::thread::Builder::new()
                .name("linksim timer".into())
                .spawn(move || send(&timer))
                .expect("thread"),
        );
        Self { shared, threads }
    }

    /// Where node `i` reaches the simulator, and where the others see node `i`.
    pub fn port(&self, i: usize) -> SocketAddr {
        self.shared.sockets[i].local_addr().expect("bound")
    }

    /// Cuts every direction between nodes of different `groups` and heals every other one; a
    /// node in no group is cut off from all.
    pub fn partition(&self, groups: &[Vec<usize>]) {
        let group = |node: usize| groups.iter().position(|g| g.contains(&node));
        let mut links = self.shared.links.lock().unwrap();
        for (from, row) in links.iter_mut().enumerate() {
            for (to, link) in row.iter_mut().enumerate() {
                link.blackhole = group(from).is_none() || group(from) != group(to);
            }
        }
    }

    /// Turns every blackhole off.
    pub fn heal(&self) {
        for link in self.shared.links.lock().unwrap().iter_mut().flatten() {
            link.blackhole = false;
        }
    }

    /// The counters of direction `from -> to`.
    pub fn counters(&self, from: usize, to: usize) -> Counters {
        self.shared.links.lock().unwrap()[from][to].counters
    }

    /// The counters of every direction added up.
    pub fn total(&self) -> Counters {
        let mut total = Counters::default();
        for link in self.shared.links.lock().unwrap().iter().flatten() {
            total += link.counters;
        }
        total
    }
}

impl Drop for LinkSim {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        self.shared.wake.notify_all();
        // Each receiving thread is blocked in recv_from: a datagram to itself wakes it.
        for socket in &self.shared.sockets {
            if let Ok(me) = socket.local_addr() {
                let _ = socket.send_to(b"", me);
            }
        }
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

/// Port `port`'s thread: each datagram from node `j` goes on link `j -> port`.
fn receive(shared: &Shared, port: usize) {
    let mut buf = vec![0u8; 65536];
    while !shared.stop.load(Ordering::SeqCst) {
        let Ok((len, source)) = shared.sockets[port].recv_from(&mut buf) else { continue };
        // Only the nodes are forwarded for; anything else (the wake-up at the end) is not.
        let Some(from) = shared.peers.iter().position(|&p| p == source) else { continue };
        if from == port {
            continue;
        }
        let verdict = shared.links.lock().unwrap()[from][port].offer(Instant::now(), len);
        if let Verdict::Pass(at) = verdict {
            let mut timers = shared.timers.lock().unwrap();
            timers.1 += 1;
            let seq = timers.1;
            timers.0.push(Reverse(Pending { at, seq, from, to: port, data: buf[..len].to_vec() }));
            shared.wake.notify_one();
        }
    }
}

/// The timer thread: sends each datagram at its time, from the sender's port to the receiver.
fn send(shared: &Shared) {
    let mut timers = shared.timers.lock().unwrap();
    loop {
        if shared.stop.load(Ordering::SeqCst) {
            return;
        }
        let now = Instant::now();
        match timers.0.peek() {
            Some(Reverse(next)) if next.at <= now => {
                let Reverse(due) = timers.0.pop().expect("peeked");
                drop(timers);
                // A node that is down answers with ICMP, which only this send sees: ignore it.
                let _ = shared.sockets[due.from].send_to(&due.data, shared.peers[due.to]);
                timers = shared.timers.lock().unwrap();
            }
            Some(Reverse(next)) => {
                let wait = next.at - now;
                timers = shared.wake.wait_timeout(timers, wait).unwrap().0;
            }
            None => timers = shared.wake.wait(timers).unwrap(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link(config: LinkConfig) -> Link {
        Link::new(config, 7)
    }

    #[test]
    fn the_loss_rate_is_what_was_asked_over_many_datagrams() {
        let mut l = link(LinkConfig { loss: 0.2, ..Default::default() });
        let now = Instant::now();
        for _ in 0..20_000 {
            l.offer(now, 100);
        }
        let c = l.counters;
        let rate = c.lost as f64 / c.offered as f64;
        assert!((0.18..0.22).contains(&rate), "lost {} of {}", c.lost, c.offered);
        assert_eq!((c.offered, c.lost + c.passed), (20_000, 20_000));
        assert_eq!((c.offered_bytes, c.passed_bytes), (2_000_000, c.passed * 100));
    }

    #[test]
    fn the_same_seed_loses_the_same_datagrams() {
        let fates = |seed| {
            let mut l = Link::new(LinkConfig { loss: 0.5, ..Default::default() }, seed);
            let now = Instant::now();
            (0..200).map(|_| l.offer(now, 10) == Verdict::Lost).collect::<Vec<_>>()
        };
        assert_eq!(fates(1), fates(1));
        assert_ne!(fates(1), fates(2));
    }

    #[test]
    fn the_rate_cap_spaces_datagrams_and_a_full_queue_drops_the_tail() {
        // 10 kB/s and room for 5 kB: a burst of 10 datagrams of 1 kB at once.
        let mut l = link(LinkConfig { rate: Some(10_000), queue: 5_000, ..Default::default() });
        let now = Instant::now();
        let verdicts: Vec<Verdict> = (0..10).map(|_| l.offer(now, 1_000)).collect();
        let sent: Vec<Duration> = verdicts
            .iter()
            .filter_map(|v| if let Verdict::Pass(at) = v { Some(*at - now) } else { None })
            .collect();
        // The 1st leaves after 100 ms, then one each 100 ms: 5 fit (4 kB waiting behind the 5th).
        let ms: Vec<u128> = sent.iter().map(|d| d.as_millis()).collect();
        assert_eq!(ms, [100, 200, 300, 400, 500], "{verdicts:?}");
        assert_eq!((l.counters.overflowed, l.counters.passed), (5, 5));
        // Once the queue has drained, the link takes datagrams again, at the cap.
        let later = now + Duration::from_secs(1);
        assert_eq!(l.offer(later, 1_000), Verdict::Pass(later + Duration::from_millis(100)));
    }

    #[test]
    fn delay_and_jitter_stay_within_their_bounds() {
        let config = LinkConfig {
            delay: Duration::from_millis(50),
            jitter: Duration::from_millis(20),
            ..Default::default()
        };
        let mut l = link(config);
        let now = Instant::now();
        let delays: Vec<Duration> = (0..1000)
            .map(|_| match l.offer(now, 10) {
                Verdict::Pass(at) => at - now,
                other => panic!("{other:?}"),
            })
            .collect();
        assert!(delays.iter().all(|d| (50..=70).contains(&d.as_millis())), "{delays:?}");
        assert!(delays.iter().any(|d| d.as_millis() < 55) && delays.iter().any(|d| d.as_millis() >= 65));
    }

    #[test]
    fn a_blackhole_drops_everything_until_it_is_switched_off() {
        let mut l = link(LinkConfig::default());
        l.blackhole = true;
        let now = Instant::now();
        assert!((0..100).all(|_| l.offer(now, 10) == Verdict::Blackholed));
        l.blackhole = false;
        assert_eq!(l.offer(now, 10), Verdict::Pass(now));
        let c = l.counters;
        assert_eq!((c.offered, c.blackholed, c.passed, c.passed_bytes), (101, 100, 1, 10));
    }

    /// Two UDP sockets on 127.0.0.1 talk through the forwarder: each sees the other at the
    /// other's port of the simulator, the counters count what crossed, and a partition stops it.
    #[test]
    fn the_forwarder_carries_datagrams_both_ways_and_counts_them() {
        let bind = || UdpSocket::bind("127.0.0.1:0").unwrap();
        let (a, b) = (bind(), bind());
        for s in [&a, &b] {
            s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        }
        let peers = vec![a.local_addr().unwrap(), b.local_addr().unwrap()];
        let sim = LinkSim::start(peers, vec![bind(), bind()], LinkConfig::default(), 1);
        let mut buf = [0u8; 64];

        a.send_to(b"ping", sim.port(1)).unwrap();
        let (len, from) = b.recv_from(&mut buf).unwrap();
        assert_eq!((&buf[..len], from), (&b"ping"[..], sim.port(0)), "B sees A at A's port");
        b.send_to(b"pong!", from).unwrap();
        let (len, from) = a.recv_from(&mut buf).unwrap();
        assert_eq!((&buf[..len], from), (&b"pong!"[..], sim.port(1)));
        assert_eq!((sim.counters(0, 1).passed_bytes, sim.counters(1, 0).passed_bytes), (4, 5));

        // A datagram sent during a partition is dropped: the next one B gets is sent after it.
        sim.partition(&[vec![0], vec![1]]);
        a.send_to(b"lost", sim.port(1)).unwrap();
        crate::harness::wait_until("the simulator to drop it", Duration::from_secs(5), || {
            sim.counters(0, 1).blackholed == 1
        });
        sim.heal();
        a.send_to(b"back", sim.port(1)).unwrap();
        let (len, _) = b.recv_from(&mut buf).unwrap();
        assert_eq!(&buf[..len], b"back", "a datagram crossed the partition");
        assert_eq!(sim.total().passed, 3);
    }
}
