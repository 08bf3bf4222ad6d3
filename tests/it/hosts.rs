//! Hosts made of Linux network namespaces, built by the test and removed after it.
//!
//! - [`Lan::new`]`(n)`: a hub namespace with a bridge, and `n` host namespaces each joined to it
//!   by a veth pair, on `10.77.0.0/24` (host `i` is `10.77.0.(i+1)`); [`Lan::cut`] and
//!   [`Lan::heal`] take a host's link down and up on the hub side.
//! - [`Split::new`]: two such LANs with no route between them, and a relay host with one
//!   interface on each (forwarding off) that also answers on a service address of its own,
//!   routed to it from both sides. [`Relay::start`] runs the `iroh-relay` server there.
//! - [`Field::new`]`(n)`: `n` hosts whose only path to each other is the link simulator
//!   ([`crate::linksim`]), with loss, delay, rate caps and partitions.
//! - [`Host::node`]: a [`Node`] whose every `peat` process runs in the host's namespace;
//!   [`Host::spawn`]: a thread of the test inside it (for servers and probes in-process).
//!
//! Everything lives in namespaces named `peat-<pid>-<n>-...` (unique per test process and per
//! network), so parallel tests never meet; the bridges live in their own namespaces, so nothing
//! in the root namespace routes to these addresses. Dropping a network kills whatever still
//! runs in its namespaces and deletes them, also when the test fails. Without the rights to
//! make namespaces (not root), the constructors print that the test is skipped and return
//! `None`.

use std::net::{Ipv4Addr, SocketAddr};
use std::os::fd::AsRawFd;
use std::process::Command;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::harness::{Node, pid_alive};
use crate::linksim::{LinkConfig, LinkSim};

/// `ip ARGS...`: its stdout, or what it said on stderr.
fn ip_try(args: &[&str]) -> Result<String, String> {
    let out = Command::new("ip").args(args).output().map_err(|e| format!("ip {}: {e}", args.join(" ")))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        Err(format!("$ ip {}\n{}", args.join(" "), String::from_utf8_lossy(&out.stderr)))
    }
}

/// `ip ARGS...`, which must succeed.
fn ip(args: &[&str]) -> String {
    ip_try(args).unwrap_or_else(|e| panic!("{e}"))
}

/// Whether this process can make network namespaces (root, with iproute2): probed once, by
/// making one and deleting it.
fn usable() -> bool {
    static USABLE: OnceLock<bool> = OnceLock::new();
    *USABLE.get_or_init(|| {
        let probe = format!("peat-{}-probe", std::process::id());
        let made = ip_try(&["netns", "add", &probe]).is_ok();
        if made {
            let _ = ip_try(&["netns", "del", &probe]);
        }
        made
    })
}

/// Prints one line and returns true when this test cannot make hosts.
fn skipped() -> bool {
    if usable() {
        return false;
    }
    let test = std::thread::current().name().unwrap_or("this test").to_string();
    println!("skipped {test}: cannot make network namespaces here (needs root and iproute2)");
    true
}

/// The namespaces of one network. Dropping it kills what still runs in them (nodes the test
/// did not stop) and deletes them, which also removes every link and bridge inside.
struct Namespaces {
    prefix: String,
    names: Vec<String>,
}

impl Namespaces {
    fn new() -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        Self { prefix: format!("peat-{}-{n}", std::process::id()), names: Vec::new() }
    }

    /// A new namespace `PREFIX-SUFFIX` with its loopback up.
    fn add(&mut self, suffix: &str) -> String {
        let name = format!("{}-{suffix}", self.prefix);
        ip(&["netns", "add", &name]);
        self.names.push(name.clone());
        ip(&["-n", &name, "link", "set", "lo", "up"]);
        name
    }

    /// A new namespace with a bridge `br0`: the switch of a LAN.
    fn switch(&mut self, suffix: &str) -> String {
        let hub = self.add(suffix);
        ip(&["-n", &hub, "link", "add", "br0", "type", "bridge"]);
        ip(&["-n", &hub, "link", "set", "br0", "up"]);
        hub
    }
}

impl Drop for Namespaces {
    fn drop(&mut self) {
        let me = std::process::id();
        let mut left = Vec::new();
        for ns in &self.names {
            let pids = ip_try(&["netns", "pids", ns]).unwrap_or_default();
            for pid in pids.split_whitespace().filter_map(|p| p.parse::<u32>().ok()) {
                // Never this test process (a thread of it may have entered a namespace).
                if pid != me {
                    // SAFETY: kill(2) has no memory effects; the pid was started by this test.
                    unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
                    left.push(pid);
                }
            }
        }
        // Not `wait_until`: this may run while the test panics, and must not panic again.
        let deadline = Instant::now() + Duration::from_secs(10);
        while left.iter().any(|&pid| pid_alive(pid)) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        for ns in self.names.iter().rev() {
            if let Err(e) = ip_try(&["netns", "del", ns]) {
                eprintln!("{e}");
            }
        }
    }
}

/// Joins `host` to the bridge of `hub` with a veth pair created directly inside the two
/// namespaces (`PORT` on the hub, `IFACE` on the host), and gives the host `addr/24`.
fn wire(hub: &str, port: &str, host: &str, iface: &str, addr: Ipv4Addr) {
    ip(&["link", "add", port, "netns", hub, "type", "veth", "peer", "name", iface, "netns", host]);
    ip(&["-n", hub, "link", "set", port, "master", "br0", "up"]);
    ip(&["-n", host, "addr", "add", &format!("{addr}/24"), "dev", iface]);
    ip(&["-n", host, "link", "set", iface, "up"]);
}

/// A host: a network namespace with an IPv4 address on a LAN.
pub struct Host {
    /// The namespace's name, for `ip netns exec`.
    pub ns: String,
    /// Its address on the LAN (for the relay host of a [`Split`], on the left LAN).
    pub ip: Ipv4Addr,
}

impl Host {
    /// A node directory whose `peat` processes run on this host (not initialised yet).
    pub fn node(&self) -> Node {
        Node::in_netns(&self.ns)
    }

    /// Whether this host has a route to `addr`.
    pub fn routes_to(&self, addr: Ipv4Addr) -> bool {
        ip_try(&["-n", &self.ns, "route", "get", &addr.to_string()]).is_ok()
    }

    /// Runs `f` on a new thread that first enters this host's network namespace (setns(2)
    /// moves only the calling thread, so the rest of the test process stays where it is):
    /// sockets made on that thread are the host's.
    pub fn spawn<T: Send + 'static>(
        &self,
        name: &str,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> std::thread::JoinHandle<T> {
        let netns = format!("/var/run/netns/{}", self.ns);
        std::thread::Builder::new()
            .name(format!("{name} in {}", self.ns))
            .spawn(move || {
                let ns = std::fs::File::open(&netns).unwrap_or_else(|e| panic!("{netns}: {e}"));
                // SAFETY: setns(2) on a namespace fd that stays open for the call.
                let entered = unsafe { libc::setns(ns.as_raw_fd(), libc::CLONE_NEWNET) };
                assert_eq!(entered, 0, "setns {netns}: {}", std::io::Error::last_os_error());
                f()
            })
            .expect("thread")
    }

    /// `GET PATH` over HTTP/1.0 to `addr`, from this host: the status line of the answer.
    pub fn http_get(&self, addr: SocketAddr, path: &str) -> Result<String, String> {
        use std::io::{BufRead, BufReader, Write};
        let request = format!("GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n");
        self.spawn("http get", move || {
            let deadline = Duration::from_secs(5);
            let mut stream =
                std::net::TcpStream::connect_timeout(&addr, deadline).map_err(|e| format!("{addr}: {e}"))?;
            stream.set_read_timeout(Some(deadline)).map_err(|e| e.to_string())?;
            stream.write_all(request.as_bytes()).map_err(|e| e.to_string())?;
            let mut status = String::new();
            BufReader::new(stream).read_line(&mut status).map_err(|e| format!("{addr}: {e}"))?;
            Ok(status.trim_end().to_string())
        })
        .join()
        .unwrap_or_else(|_| Err("the request thread panicked".into()))
    }

    /// `IP:PORT` on this host.
    pub fn addr(&self, port: u16) -> SocketAddr {
        SocketAddr::from((self.ip, port))
    }
}

/// Hosts on one switch.
pub struct Lan {
    pub hosts: Vec<Host>,
    hub: String,
    _net: Namespaces,
}

impl Lan {
    /// `n` hosts on one LAN, `10.77.0.1`, `10.77.0.2`, ...; `None` (and a line saying the test
    /// is skipped) when network namespaces cannot be made here.
    pub fn new(n: usize) -> Option<Self> {
        if skipped() {
            return None;
        }
        assert!(n < 250);
        let mut net = Namespaces::new();
        let hub = net.switch("hub");
        let hosts = (0..n)
            .map(|i| {
                let ns = net.add(&format!("h{i}"));
                let ip = Ipv4Addr::new(10, 77, 0, i as u8 + 1);
                wire(&hub, &format!("p{i}"), &ns, "eth0", ip);
                // Multicast goes out on the LAN, as on a host with a default route: mDNS
                // sends from an unbound socket and needs a route for 224.0.0.251.
                self::ip(&["-n", &ns, "route", "add", "224.0.0.0/4", "dev", "eth0"]);
                Host { ns, ip }
            })
            .collect();
        Some(Self { hosts, hub, _net: net })
    }

    /// Takes host `i`'s link down at the switch: it reaches no one, and no one reaches it.
    pub fn cut(&self, i: usize) {
        ip(&["-n", &self.hub, "link", "set", &format!("p{i}"), "down"]);
    }

    /// Brings host `i`'s link back up.
    pub fn heal(&self, i: usize) {
        ip(&["-n", &self.hub, "link", "set", &format!("p{i}"), "up"]);
    }
}

/// Two LANs with no route between them, and a relay host on both.
///
/// - left LAN `10.77.1.0/24`: the relay host is `.1`, [`Split::left`] is `.2`
/// - right LAN `10.77.2.0/24`: the relay host is `.1`, [`Split::right`] is `.2`
/// - [`Split::relay_ip`] (`10.77.0.1`) is an address of the relay host's own, routed to it
///   from both LANs, so one URL reaches it from either side. Its forwarding is off, and the
///   two sides have routes only to their LAN and to that address: no path from one side to
///   the other passes through it except at the application level.
pub struct Split {
    pub left: Host,
    pub right: Host,
    pub relay: Host,
    pub relay_ip: Ipv4Addr,
    _net: Namespaces,
}

impl Split {
    /// `None` (and a line saying the test is skipped) when namespaces cannot be made here.
    pub fn new() -> Option<Self> {
        if skipped() {
            return None;
        }
        let mut net = Namespaces::new();
        let (left_hub, right_hub) = (net.switch("lhub"), net.switch("rhub"));
        let relay_ns = net.add("relay");
        let relay_ip = Ipv4Addr::new(10, 77, 0, 1);
        ip(&["-n", &relay_ns, "addr", "add", &format!("{relay_ip}/32"), "dev", "lo"]);
        forwarding_off(&relay_ns);
        let mut side = |hub: &str, lan: u8, relay_iface: &str, suffix: &str| {
            let gateway = Ipv4Addr::new(10, 77, lan, 1);
            wire(hub, "prelay", &relay_ns, relay_iface, gateway);
            let ns = net.add(suffix);
            let ip = Ipv4Addr::new(10, 77, lan, 2);
            wire(hub, "phost", &ns, "eth0", ip);
            ip_route_via(&ns, relay_ip, gateway);
            Host { ns, ip }
        };
        let left = side(&left_hub, 1, "eth0", "left");
        let right = side(&right_hub, 2, "eth1", "right");
        let relay = Host { ns: relay_ns, ip: Ipv4Addr::new(10, 77, 1, 1) };
        Some(Self { left, right, relay, relay_ip, _net: net })
    }
}

/// Hosts that reach each other only through a link simulator ([`LinkSim`]), as nodes in the
/// field do over radio links.
///
/// - host `i` is `10.77.(i+1).2` on a veth pair of its own to a router namespace
///   (`10.77.(i+1).1` there); the router forwards nothing, so no host has a path to another
/// - the router holds [`Field::VIA`] (`10.77.0.1`), routed to it from every host; the simulator
///   binds port [`Field::BASE`]` + i` of it for host `i`, so host `i` is reached at
///   [`Field::advertised`]`(i)` and sees every peer at the peer's port there
/// - a node of host `i` listens on [`Field::listen`]`(i)` (`10.77.(i+1).2:7890`) and advertises
///   [`Field::advertised`]`(i)`: its datagrams and its peers' all cross the simulator
///
/// Dropping it stops the simulator, then removes the namespaces.
pub struct Field {
    pub hosts: Vec<Host>,
    pub sim: LinkSim,
    _net: Namespaces,
}

impl Field {
    /// The router's address, on which the simulator listens.
    pub const VIA: Ipv4Addr = Ipv4Addr::new(10, 77, 0, 1);
    /// The simulator's port for host 0; host `i` has `BASE + i`.
    pub const BASE: u16 = 7900;

    /// `n` hosts joined by links that all do what `link` says, drawing on `seed`; `None` (and a
    /// line saying the test is skipped) when network namespaces cannot be made here.
    pub fn new(n: usize, link: LinkConfig, seed: u64) -> Option<Self> {
        if skipped() {
            return None;
        }
        assert!((1..250).contains(&n));
        let mut net = Namespaces::new();
        let router_ns = net.add("router");
        ip(&["-n", &router_ns, "addr", "add", &format!("{}/32", Self::VIA), "dev", "lo"]);
        forwarding_off(&router_ns);
        let hosts: Vec<Host> = (0..n)
            .map(|i| {
                let ns = net.add(&format!("h{i}"));
                let (gateway, addr) =
                    (Ipv4Addr::new(10, 77, i as u8 + 1, 1), Ipv4Addr::new(10, 77, i as u8 + 1, 2));
                let port = format!("r{i}");
                ip(&[
                    "link", "add", &port, "netns", &router_ns, "type", "veth", "peer", "name", "eth0",
                    "netns", &ns,
                ]);
                ip(&["-n", &router_ns, "addr", "add", &format!("{gateway}/24"), "dev", &port]);
                ip(&["-n", &router_ns, "link", "set", &port, "up"]);
                ip(&["-n", &ns, "addr", "add", &format!("{addr}/24"), "dev", "eth0"]);
                ip(&["-n", &ns, "link", "set", "eth0", "up"]);
                ip_route_via(&ns, Self::VIA, gateway);
                Host { ns, ip: addr }
            })
            .collect();
        let router = Host { ns: router_ns, ip: Self::VIA };
        let sockets = router
            .spawn("linksim bind", move || {
                (0..n)
                    .map(|i| {
                        let at = SocketAddr::from((Self::VIA, Self::BASE + i as u16));
                        std::net::UdpSocket::bind(at).unwrap_or_else(|e| panic!("bind {at}: {e}"))
                    })
                    .collect::<Vec<_>>()
            })
            .join()
            .expect("the simulator's ports are bound in the router");
        let peers = (0..n).map(Self::listen).collect();
        let sim = LinkSim::start(peers, sockets, link, seed);
        Some(Self { hosts, sim, _net: net })
    }

    /// Initialises and starts a node on host `i` that listens on [`Field::listen`] and
    /// advertises [`Field::advertised`], so that its peers dial it through the simulator;
    /// `ticket` joins it to a formation.
    pub fn start_node(&self, i: usize, ticket: Option<&str>) -> Node {
        let node = self.hosts[i].node();
        let listen = Self::listen(i).to_string();
        let join = ticket.map(|t| vec!["--join", t]).unwrap_or_default();
        node.ok(&[&["init", "--listen", &listen][..], &join].concat());
        node.start_with(&["-v", "--advertise", &Self::advertised(i).to_string()]);
        node
    }

    /// The ticket of a running node, which carries its advertised address first.
    pub fn ticket(node: &Node) -> String {
        let status = node.json(&["sync", "status", "--show-ticket", "-o", "json"]);
        status["ticket"].as_str().unwrap_or_else(|| panic!("no ticket in {status}")).to_string()
    }

    /// Where the node of host `i` listens: `10.77.(i+1).2:7890`.
    pub fn listen(i: usize) -> SocketAddr {
        SocketAddr::from((Ipv4Addr::new(10, 77, i as u8 + 1, 2), 7890))
    }

    /// Where the others reach host `i`: its port of the simulator.
    pub fn advertised(i: usize) -> SocketAddr {
        SocketAddr::from((Self::VIA, Self::BASE + i as u16))
    }
}

/// Turns IPv4 forwarding off in `ns`, so that it routes nothing between its links.
fn forwarding_off(ns: &str) {
    let out = Command::new("ip")
        .args(["netns", "exec", ns, "sh", "-c", "echo 0 > /proc/sys/net/ipv4/ip_forward"])
        .output()
        .expect("sh runs");
    assert!(out.status.success(), "turning forwarding off: {}", String::from_utf8_lossy(&out.stderr));
}

/// A host route on `ns` to `to` through `via`.
fn ip_route_via(ns: &str, to: Ipv4Addr, via: Ipv4Addr) {
    ip(&["-n", ns, "route", "add", &format!("{to}/32"), "via", &via.to_string()]);
}

/// The relay server of the `iroh-relay` crate in dev mode (plain HTTP, no TLS, no QUIC
/// address discovery), serving from inside a host's namespace. Dropping it shuts it down.
pub struct Relay {
    /// `http://IP:PORT`, as nodes are given it with `--relay`.
    pub url: String,
    addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Relay {
    /// Starts the server on `bind_ip` (an address of `host`) and a free port, and returns once
    /// it accepts connections. It runs on a thread of its own inside the host's namespace, with
    /// a current-thread tokio runtime on that thread, so every socket it makes is inside.
    pub fn start(host: &Host, bind_ip: Ipv4Addr) -> Self {
        use iroh_relay::server::{RelayConfig, Server, ServerConfig};

        let (ready_tx, ready_rx) = std::sync::mpsc::channel::<Result<SocketAddr, String>>();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = host.spawn("relay", move || {
            let runtime =
                tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
            runtime.block_on(async move {
                let mut config = ServerConfig::default();
                config.relay = Some(RelayConfig::new(SocketAddr::from((bind_ip, 0))));
                config.quic = None;
                match Server::spawn(config).await {
                    Ok(server) => {
                        let addr = server.http_addr().ok_or_else(|| "the relay serves no HTTP".to_string());
                        let _ = ready_tx.send(addr);
                        let _ = stopped.await;
                        let _ = server.shutdown().await;
                    }
                    Err(e) => {
                        let _ = ready_tx.send(Err(format!("relay server: {e}")));
                    }
                }
            });
        });
        let mut relay = Self {
            url: String::new(),
            addr: SocketAddr::from((bind_ip, 0)),
            stop: Some(stop),
            thread: Some(thread),
        };
        relay.addr = ready_rx
            .recv_timeout(Duration::from_secs(20))
            .unwrap_or_else(|e| panic!("the relay server did not start: {e}"))
            .unwrap_or_else(|e| panic!("the relay server did not start: {e}"));
        relay.url = format!("http://{}", relay.addr);
        relay
    }

    /// Whether the relay answers `GET /healthz` with 200 when asked from `host`.
    pub fn healthy_from(&self, host: &Host) -> Result<(), String> {
        let status = host.http_get(self.addr, "/healthz")?;
        if status.split_whitespace().nth(1) == Some("200") { Ok(()) } else { Err(status) }
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The harness itself: in a [`Split`], the two sides have no path to each other but the
/// relay, and the relay server carries Iroh traffic between them (two bare Iroh endpoints,
/// one on each side, with the relay as their only relay, echo a message), so a failing
/// relay scenario is about peat, not about the hosts.
#[test]
fn a_split_has_no_direct_path_and_its_relay_carries_iroh_between_the_sides() {
    use iroh::endpoint::presets;
    use iroh::{Endpoint, EndpointAddr, RelayMode, RelayUrl, TransportAddr};

    const ALPN: &[u8] = b"peat-test/echo";
    let Some(net) = Split::new() else { return };
    assert!(!net.left.routes_to(net.right.ip) && !net.right.routes_to(net.left.ip));
    let relay = Relay::start(&net.relay, net.relay_ip);
    let url: RelayUrl = relay.url.parse().unwrap();

    /// An endpoint bound to every address of the host, whose only relay is `url`, once it is
    /// connected to that relay.
    async fn endpoint(url: RelayUrl) -> Endpoint {
        let ep = Endpoint::builder(presets::Minimal)
            .alpns(vec![ALPN.to_vec()])
            .relay_mode(RelayMode::Custom(url.into()))
            .clear_ip_transports()
            .bind_addr("0.0.0.0:0")
            .unwrap()
            .bind()
            .await
            .unwrap();
        tokio::time::timeout(Duration::from_secs(20), ep.online())
            .await
            .expect("the endpoint reaches the relay");
        ep
    }
    let runtime = || tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();

    let (id_tx, id_rx) = std::sync::mpsc::channel();
    let right_url = url.clone();
    let right = net.right.spawn("echo", move || {
        runtime().block_on(async move {
            let ep = endpoint(right_url).await;
            id_tx.send(ep.id()).unwrap();
            let conn = tokio::time::timeout(Duration::from_secs(30), async { ep.accept().await?.await.ok() })
                .await
                .expect("a connection within 30 s")
                .expect("an accepted connection");
            let (mut send, mut recv) = conn.accept_bi().await.unwrap();
            let got = recv.read_to_end(1024).await.unwrap();
            send.write_all(&got).await.unwrap();
            send.finish().unwrap();
            let _ = tokio::time::timeout(Duration::from_secs(10), conn.closed()).await;
            ep.close().await;
        })
    });
    let right_id = id_rx.recv_timeout(Duration::from_secs(30)).expect("the right endpoint starts");
    let echoed = net.left.spawn("ping", move || {
        runtime().block_on(async move {
            let ep = endpoint(url.clone()).await;
            let to = EndpointAddr::from_parts(right_id, [TransportAddr::Relay(url)]);
            let echoed = tokio::time::timeout(Duration::from_secs(30), async {
                let conn = ep.connect(to, ALPN).await.unwrap();
                let (mut send, mut recv) = conn.open_bi().await.unwrap();
                send.write_all(b"across the relay").await.unwrap();
                send.finish().unwrap();
                let echoed = recv.read_to_end(1024).await.unwrap();
                conn.close(0u32.into(), b"done");
                echoed
            })
            .await
            .expect("the echo within 30 s");
            ep.close().await;
            echoed
        })
    });
    assert_eq!(echoed.join().expect("the left side"), b"across the relay");
    right.join().expect("the right side");
}
