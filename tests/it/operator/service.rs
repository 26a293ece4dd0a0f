//! `serve` under a service manager: it says `READY=1` once it listens and `STOPPING=1` when
//! told to stop (the sd_notify protocol of `Type=notify`), on a socket path or an abstract
//! socket; `healthcheck` answers for it.

use std::os::unix::net::UnixDatagram;
use std::process::{Child, Stdio};
use std::time::Duration;

use super::{binary, text};
use crate::provider::support::free_port;

struct Serving(Child);

impl Drop for Serving {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn serve(db: &std::path::Path, port: u16, notify_socket: &str) -> Serving {
    Serving(
        binary()
            .arg("serve")
            .env("MYKEY_LISTEN", format!("127.0.0.1:{port}"))
            .env("MYKEY_DATABASE_URL", format!("sqlite://{}", db.display()))
            .env("MYKEY_WORKERS", "1")
            .env("NOTIFY_SOCKET", notify_socket)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("serve"),
    )
}

fn receive(socket: &UnixDatagram) -> String {
    socket
        .set_read_timeout(Some(Duration::from_secs(60)))
        .expect("timeout");
    let mut buf = [0u8; 512];
    let n = socket
        .recv(&mut buf)
        .expect("a notification within a minute");
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

fn healthcheck(port: u16) -> (bool, String) {
    let out = binary()
        .arg("healthcheck")
        .env("MYKEY_LISTEN", format!("127.0.0.1:{port}"))
        .output()
        .expect("run");
    let (stdout, stderr) = text(&out);
    (out.status.success(), stdout + &stderr)
}

#[test]
fn serve_tells_the_service_manager_it_is_ready_once_it_listens_and_when_it_stops() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("notify");
    let socket = UnixDatagram::bind(&path).expect("bind");
    let port = free_port();
    let (healthy, said) = healthcheck(port);
    assert!(!healthy && said.contains("unhealthy"), "{said}");

    let mut serving = serve(
        &dir.path().join("mykey.sqlite3"),
        port,
        &path.display().to_string(),
    );
    let ready = receive(&socket);
    assert!(ready.starts_with("READY=1\n"), "{ready}");
    assert!(
        ready.contains(&format!("STATUS=serving on 127.0.0.1:{port}")),
        "{ready}"
    );
    // Ready means listening: the health check passes at once.
    let (healthy, said) = healthcheck(port);
    assert!(
        healthy && said.starts_with("healthy: HTTP/1.1 200"),
        "{said}"
    );

    let stopped = std::process::Command::new("kill")
        .args(["-TERM", &serving.0.id().to_string()])
        .status()
        .expect("kill");
    assert!(stopped.success());
    assert_eq!(receive(&socket), "STOPPING=1");
    let status = serving.0.wait().expect("exit");
    assert!(
        status.success(),
        "a stop asked for is a clean exit: {status}"
    );
}

#[test]
fn serve_notifies_an_abstract_socket_as_systemd_gives_to_containers() {
    use std::os::linux::net::SocketAddrExt as _;
    let name = format!("mykey-test-notify-{}", free_port());
    let addr = std::os::unix::net::SocketAddr::from_abstract_name(name.as_bytes()).expect("name");
    let socket = UnixDatagram::bind_addr(&addr).expect("bind");
    let dir = tempfile::tempdir().expect("tempdir");
    let _serving = serve(
        &dir.path().join("mykey.sqlite3"),
        free_port(),
        &format!("@{name}"),
    );
    assert!(receive(&socket).starts_with("READY=1\n"));
}
