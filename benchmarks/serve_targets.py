"""The servers that benchmarks/serve.py measures: Ferry and its peers, started on 127.0.0.1 only.

Every target is driven by the same wrk script with query-string presigned URLs:

* Ferry: one ``python -m ferry serve --region R --config <tmp>`` process (OSS V1 presigned URLs,
  signed with ``ferry.protocol.signing``); for the replication row, a second region process too.
* moto: ``python -m moto.server`` from the peers venv (AWS SigV2 presigned URLs; moto does not
  verify signatures, Swift does).
* OpenStack Swift with s3api: account, container and object servers and a proxy with tempauth and
  s3api (one replica, rings built with swift-ring-builder, ``workers = 0``: no forking), plus
  memcached when it is installed (as in any Swift deployment).
* nginx: a static-file server (``sendfile``, WebDAV PUT) as the native ceiling, when installed.

A target knows its process tree (for CPU and RSS accounting, read from /proc) and stops only the
processes it started.
"""

from __future__ import annotations

import base64
import contextlib
import getpass
import hashlib
import hmac
import http.client
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from urllib.parse import quote

HOST = "127.0.0.1"
HERE = Path(__file__).resolve().parent
PEERS_DIR = HERE / ".peers"
PEERS_VENV = PEERS_DIR / "venv"
PEER_PACKAGES = ("moto[server]", "swift")

ACCESS_KEY_ID = "LTAIferrybenchkey001"
ACCESS_KEY_SECRET = "ferry-bench-secret-0001"
SWIFT_ACCESS_KEY = "test:tester"
SWIFT_SECRET = "testing"
PRESIGN_SECONDS = 2 * 24 * 3600
REGION_A = "oss-cn-hangzhou"
REGION_B = "oss-cn-beijing"

Preexec = Callable[[], None] | None


# --------------------------------------------------------------------------- helpers
def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def wait_listening(port: int, timeout: float = 30.0, proc: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process {proc.pid} exited with {proc.returncode} before listening")
        try:
            with socket.create_connection((HOST, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on {HOST}:{port} after {timeout}s")


def http_call(
    port: int,
    method: str,
    path: str,
    body: bytes | Iterable[bytes] = b"",
    headers: dict[str, str] | None = None,
    timeout: float = 120.0,
) -> tuple[int, bytes]:
    """One request on a fresh connection; returns status and body."""
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        hdrs = dict(headers or {})
        if isinstance(body, bytes) and method in ("PUT", "POST"):
            hdrs.setdefault("Content-Length", str(len(body)))
        conn.request(method, path, body=body if body != b"" else None, headers=hdrs)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def oss_v1_presign(method: str, bucket: str, key: str, expires: int, port_unused: int = 0) -> str:
    """Path and query of an OSS V1 presigned URL (no Content-Type, no x-oss-* headers)."""
    from ferry.protocol import signing

    sts = signing.v1_string_to_sign(method, {}, bucket, key, [], date=str(expires))
    sig = signing.v1_signature(ACCESS_KEY_SECRET, sts)
    return (
        f"/{bucket}/{quote(key, safe='/')}?OSSAccessKeyId={quote(ACCESS_KEY_ID, safe='')}"
        f"&Expires={expires}&Signature={quote(sig, safe='')}"
    )


def s3_v2_presign(method: str, bucket: str, key: str, expires: int, access_key: str, secret: str) -> str:
    """Path and query of an AWS SigV2 query-string presigned URL (path style, no Content-Type)."""
    path = f"/{bucket}/{quote(key, safe='/')}" if key else f"/{bucket}"
    sts = f"{method}\n\n\n{expires}\n{path}"
    sig = base64.b64encode(hmac.new(secret.encode(), sts.encode(), hashlib.sha1).digest()).decode()
    return (
        f"{path}?AWSAccessKeyId={quote(access_key, safe='')}&Expires={expires}"
        f"&Signature={quote(sig, safe='')}"
    )


def children_of(root: int) -> list[int]:
    """``root`` and all its descendants, from /proc."""
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        ppid = int(stat.rpartition(")")[2].split()[1])
        parents.setdefault(ppid, []).append(int(entry))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo.extend(parents.get(pid, []))
    return out


def cpu_seconds(pid: int) -> float:
    """utime + stime of one process, from /proc/<pid>/stat (0 when gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rpartition(")")[2].split()
    except OSError:
        return 0.0
    # fields[0] is the state (field 3); utime and stime are fields 14 and 15
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_bytes(pid: int) -> int:
    """VmRSS of one process, from /proc/<pid>/status (0 when gone)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def pin_to(cpu: int | None) -> Preexec:
    if cpu is None:
        return None
    return lambda: os.sched_setaffinity(0, {cpu})


# --------------------------------------------------------------------------- base
class Target:
    """A server under test: started, presigned against, accounted, stopped."""

    name = "?"
    description = ""

    def __init__(self, root: Path, server_cpu: int | None) -> None:
        self.root = root
        self.server_cpu = server_cpu
        self.port = 0
        self.procs: list[subprocess.Popen[bytes]] = []
        self.expires = int(time.time()) + PRESIGN_SECONDS

    # -- lifecycle
    def start(self) -> None:
        raise NotImplementedError

    def _spawn(self, argv: list[str], log: str, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        with open(self.root / log, "ab") as out:
            proc = subprocess.Popen(
                argv,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=env,
                cwd=self.root,
                preexec_fn=pin_to(self.server_cpu),
            )
        self.procs.append(proc)
        return proc

    def stop(self) -> None:
        """SIGINT (SIGTERM for non-Python servers) to the processes this target started, then SIGKILL."""
        known = {pid for p in self.procs if p.poll() is None for pid in children_of(p.pid)}
        for p in reversed(self.procs):
            if p.poll() is None:
                p.send_signal(self.stop_signal)
        for p in reversed(self.procs):
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(timeout=5)
        for pid in known - {p.pid for p in self.procs}:
            # children the servers forked themselves (nginx's worker): only those we saw
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
        self.procs = []

    stop_signal = signal.SIGINT

    def log_tail(self, n: int = 20) -> str:
        lines: list[str] = []
        for log in sorted(self.root.glob("*.log")):
            lines.append(f"--- {log.name}")
            lines += log.read_text(errors="replace").splitlines()[-n:]
        return "\n".join(lines)

    # -- accounting: the whole process tree this target started
    def pids(self) -> list[int]:
        return [pid for p in self.procs if p.poll() is None for pid in children_of(p.pid)]

    def main_pid(self) -> int:
        return self.procs[0].pid

    def cpu(self) -> float:
        return sum(cpu_seconds(pid) for pid in self.pids())

    def rss(self) -> int:
        return sum(rss_bytes(pid) for pid in self.pids())

    # -- requests
    def presign(self, method: str, bucket: str, key: str) -> str:
        raise NotImplementedError

    def create_bucket(self, bucket: str) -> None:
        status, body = http_call(self.port, "PUT", self.presign("PUT", bucket, ""))
        if status != 200:
            raise RuntimeError(f"{self.name}: create bucket {bucket}: HTTP {status} {body[:300]!r}")

    def put(self, bucket: str, key: str, data: bytes) -> None:
        status, body = http_call(self.port, "PUT", self.presign("PUT", bucket, key), data)
        if status not in (200, 201, 204):
            raise RuntimeError(f"{self.name}: PUT {bucket}/{key}: HTTP {status} {body[:300]!r}")

    def get(self, bucket: str, key: str) -> bytes:
        status, body = http_call(self.port, "GET", self.presign("GET", bucket, key))
        if status != 200:
            raise RuntimeError(f"{self.name}: GET {bucket}/{key}: HTTP {status} {body[:300]!r}")
        return body

    def versions(self) -> dict[str, str]:
        return {}


# --------------------------------------------------------------------------- Ferry
def ferry_config(root: Path, ports: dict[str, int]) -> Path:
    """Two regions on loopback with routes both ways (as tests/integration/harness.py writes)."""
    lines = [f'data_dir = "{root / "data"}"', ""]
    for name, port in ports.items():
        lines += [
            "[[region]]",
            f'name = "{name}"',
            f'listen = "{HOST}:{port}"',
            f'endpoint = "http://{HOST}:{port}"',
            "rtc = true",
            "",
        ]
    for src, dst in ((REGION_A, REGION_B), (REGION_B, REGION_A)):
        lines += [
            "[[route]]",
            f'from = "{src}"',
            f'to = "{dst}"',
            'transfer_types = ["internal", "oss_acc"]',
            "",
        ]
    path = root / "ferry.toml"
    path.write_text("\n".join(lines))
    return path


class FerryTarget(Target):
    """One Ferry region process; with ``replica_cpu`` set, the second region too and a CRR rule."""

    name = "ferry"
    description = "Ferry, one region process (`python -m ferry serve`), V1 presigned URLs"

    def __init__(
        self, root: Path, server_cpu: int | None, *, replicate: bool = False, replica_cpu: int | None = None
    ) -> None:
        super().__init__(root, server_cpu)
        self.replicate = replicate
        self.replica_cpu = replica_cpu
        self.ports = {REGION_A: free_port(), REGION_B: free_port()}
        self.replica: subprocess.Popen[bytes] | None = None
        if replicate:
            self.name = "ferry+crr"
            self.description = (
                "Ferry source region process with one CRR rule to a second region process "
                "(its CPU and RSS are not counted here)"
            )

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            OSS_ACCESS_KEY_ID=ACCESS_KEY_ID, OSS_ACCESS_KEY_SECRET=ACCESS_KEY_SECRET, PYTHONUNBUFFERED="1"
        )
        for var in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy"):
            env.pop(var, None)
        return env

    def _serve(self, region: str) -> list[str]:
        config = self.root / "ferry.toml"
        return [sys.executable, "-m", "ferry", "serve", "--region", region, "--config", str(config)]

    def start(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        ferry_config(self.root, self.ports)
        self.port = self.ports[REGION_A]
        proc = self._spawn(self._serve(REGION_A), f"{REGION_A}.log", self.env())
        wait_listening(self.port, proc=proc)
        if self.replicate:
            with open(self.root / f"{REGION_B}.log", "ab") as out:
                self.replica = subprocess.Popen(
                    self._serve(REGION_B),
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    env=self.env(),
                    cwd=self.root,
                    preexec_fn=pin_to(self.replica_cpu),
                )
            wait_listening(self.ports[REGION_B], proc=self.replica)

    def stop(self) -> None:
        super().stop()
        if self.replica is not None and self.replica.poll() is None:
            self.replica.send_signal(signal.SIGINT)
            try:
                self.replica.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.replica.kill()
                self.replica.wait(timeout=5)

    def replica_cpu_seconds(self) -> float:
        return cpu_seconds(self.replica.pid) if self.replica is not None else 0.0

    def presign(self, method: str, bucket: str, key: str) -> str:
        return oss_v1_presign(method, bucket, key, self.expires)

    def presign_replica(self, method: str, bucket: str, key: str) -> str:
        return oss_v1_presign(method, bucket, key, self.expires)

    def add_replication_rule(self, bucket: str, target_bucket: str) -> None:
        """Create ``target_bucket`` in the second region and a CRR rule from ``bucket`` to it."""
        import oss2  # type: ignore[import-untyped]
        from oss2.models import ReplicationRule  # type: ignore[import-untyped]

        status, body = http_call(
            self.ports[REGION_B], "PUT", oss_v1_presign("PUT", target_bucket, "", self.expires)
        )
        if status != 200:
            raise RuntimeError(f"create replica bucket: HTTP {status} {body[:300]!r}")
        auth = oss2.Auth(ACCESS_KEY_ID, ACCESS_KEY_SECRET)
        src = oss2.Bucket(auth, f"http://{HOST}:{self.port}", bucket)
        src.put_bucket_replication(
            ReplicationRule(target_bucket_name=target_bucket, target_bucket_location=REGION_B)
        )

    def has(self, bucket: str, key: str) -> bool:
        status, _ = http_call(self.port, "HEAD", oss_v1_presign("HEAD", bucket, key, self.expires))
        return status == 200

    def replica_has(self, bucket: str, key: str) -> bool:
        status, _ = http_call(self.ports[REGION_B], "HEAD", oss_v1_presign("HEAD", bucket, key, self.expires))
        return status == 200

    def versions(self) -> dict[str, str]:
        from importlib import metadata

        return {"ferry": metadata.version("ferry"), "uvicorn": metadata.version("uvicorn")}


# --------------------------------------------------------------------------- peers venv
def peers_python() -> Path:
    return PEERS_VENV / "bin" / "python"


def install_peers(log: Path) -> None:
    """Create benchmarks/.peers/venv (git-ignored) and pip-install moto[server] and swift into it."""
    PEERS_DIR.mkdir(exist_ok=True)
    if peers_python().exists():
        check = subprocess.run(
            [str(peers_python()), "-c", "import moto.server, swift.common.wsgi, eventlet"],
            capture_output=True,
            timeout=120,
        )
        if check.returncode == 0:
            return  # already installed
    with open(log, "ab") as out:
        if not peers_python().exists():
            subprocess.run(
                [sys.executable, "-m", "venv", str(PEERS_VENV)],
                check=True,
                stdout=out,
                stderr=out,
                timeout=300,
            )
        subprocess.run(
            [str(peers_python()), "-m", "pip", "install", "-q", *PEER_PACKAGES],
            check=True,
            stdout=out,
            stderr=out,
            timeout=900,
        )


def install_apt(packages: list[str], log: Path) -> None:
    """Best effort: Debian's memcached (Swift's cache) and nginx (the static ceiling), as root only."""
    missing = [p for p in packages if shutil.which(p) is None and shutil.which(f"/usr/sbin/{p}") is None]
    if not missing or os.geteuid() != 0 or shutil.which("apt-get") is None:
        return
    with open(log, "ab") as out:
        subprocess.run(
            ["apt-get", "install", "-y", "-q", "--no-install-recommends", *missing],
            stdout=out,
            stderr=out,
            timeout=600,
            check=False,
            env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
        )


def peer_version(package: str) -> str:
    out = subprocess.run(
        [str(peers_python()), "-c", f"from importlib import metadata; print(metadata.version({package!r}))"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    return out.stdout.strip() or "?"


# --------------------------------------------------------------------------- moto
class MotoTarget(Target):
    name = "moto"
    description = "moto server (`python -m moto.server`, threaded werkzeug), SigV2 presigned URLs"

    def start(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        env = dict(os.environ, AWS_ACCESS_KEY_ID="bench", AWS_SECRET_ACCESS_KEY="bench", PYTHONUNBUFFERED="1")
        proc = self._spawn(
            [str(peers_python()), "-m", "moto.server", "-H", HOST, "-p", str(self.port)], "moto.log", env
        )
        wait_listening(self.port, proc=proc)

    def presign(self, method: str, bucket: str, key: str) -> str:
        return s3_v2_presign(method, bucket, key, self.expires, "bench", "bench")

    def versions(self) -> dict[str, str]:
        return {"moto": peer_version("moto")}


# --------------------------------------------------------------------------- Swift
SWIFT_CONF = """\
[swift-hash]
swift_hash_path_suffix = ferrybench
swift_hash_path_prefix = ferrybench

[storage-policy:0]
name = Policy-0
default = yes
"""

SWIFT_BACKEND = """\
[DEFAULT]
bind_ip = {host}
bind_port = {port}
workers = 0
user = {user}
swift_dir = {swift_dir}
devices = {devices}
mount_check = false
log_level = WARNING

[pipeline:main]
pipeline = {kind}-server

[app:{kind}-server]
use = egg:swift#{kind}
"""

SWIFT_PROXY = """\
[DEFAULT]
bind_ip = {host}
bind_port = {port}
workers = 0
user = {user}
swift_dir = {swift_dir}
log_level = WARNING

[pipeline:main]
pipeline = catch_errors gatekeeper proxy-logging {cache} listing_formats s3api tempauth copy dlo \
versioned_writes proxy-logging proxy-server

[app:proxy-server]
use = egg:swift#proxy
account_autocreate = true

[filter:catch_errors]
use = egg:swift#catch_errors

[filter:gatekeeper]
use = egg:swift#gatekeeper

[filter:proxy-logging]
use = egg:swift#proxy_logging
access_log_level = WARNING

[filter:cache]
use = egg:swift#memcache
memcache_servers = {host}:{memcache_port}

[filter:listing_formats]
use = egg:swift#listing_formats

[filter:s3api]
use = egg:swift#s3api
location = us-east-1

[filter:tempauth]
use = egg:swift#tempauth
user_test_tester = {secret} .admin

[filter:copy]
use = egg:swift#copy

[filter:dlo]
use = egg:swift#dlo

[filter:versioned_writes]
use = egg:swift#versioned_writes
"""


class SwiftTarget(Target):
    name = "swift"
    description = (
        "OpenStack Swift + s3api + tempauth: proxy, account, container, object servers "
        "(workers = 0, one replica) and memcached; CPU and RSS summed over all of them"
    )

    def bin(self, tool: str) -> str:
        return str(PEERS_VENV / "bin" / tool)

    def start(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        swift_dir = self.root / "etc"
        devices = self.root / "srv"
        swift_dir.mkdir(exist_ok=True)
        (devices / "d1").mkdir(parents=True, exist_ok=True)
        probe = devices / "d1" / ".xattr-probe"
        probe.write_bytes(b"")
        try:
            os.setxattr(probe, "user.swift.probe", b"1")
        except OSError as exc:
            raise RuntimeError(
                f"{devices} has no user xattrs, which Swift's object server needs: {exc}"
            ) from exc
        finally:
            probe.unlink()
        (swift_dir / "swift.conf").write_text(SWIFT_CONF)
        ports = {kind: free_port() for kind in ("account", "container", "object", "proxy")}
        for kind in ("account", "container", "object"):
            builder = str(swift_dir / f"{kind}.builder")
            for args in (
                ["create", "8", "1", "1"],
                ["add", f"r1z1-{HOST}:{ports[kind]}/d1", "100"],
                ["rebalance"],
            ):
                done = subprocess.run(
                    [self.bin("swift-ring-builder"), builder, *args],
                    capture_output=True,
                    text=True,
                    timeout=120,
                )
                if done.returncode not in (0, 1):  # 1 = warnings (e.g. a single device)
                    raise RuntimeError(f"swift-ring-builder {kind} {args}: {done.stdout}{done.stderr}")
        user = getpass.getuser()
        memcached = shutil.which("memcached")
        cache = ""
        memcache_port = 0
        if memcached:
            memcache_port = free_port()
            argv = [memcached, "-l", HOST, "-p", str(memcache_port), "-U", "0", "-m", "64"]
            if os.geteuid() == 0:
                argv += ["-u", user]
            proc = self._spawn(argv, "memcached.log")
            wait_listening(memcache_port, proc=proc)
            cache = "cache"
        for kind in ("account", "container", "object"):
            conf = swift_dir / f"{kind}-server.conf"
            conf.write_text(
                SWIFT_BACKEND.format(
                    host=HOST, port=ports[kind], user=user, swift_dir=swift_dir, devices=devices, kind=kind
                )
            )
            proc = self._spawn([self.bin(f"swift-{kind}-server"), str(conf)], f"swift-{kind}.log")
            wait_listening(ports[kind], proc=proc)
        conf = swift_dir / "proxy-server.conf"
        conf.write_text(
            SWIFT_PROXY.format(
                host=HOST,
                port=ports["proxy"],
                user=user,
                swift_dir=swift_dir,
                cache=cache,
                memcache_port=memcache_port,
                secret=SWIFT_SECRET,
            )
        )
        proc = self._spawn([self.bin("swift-proxy-server"), str(conf)], "swift-proxy.log")
        self.port = ports["proxy"]
        wait_listening(self.port, proc=proc)

    def main_pid(self) -> int:
        return self.procs[-1].pid  # the proxy

    def presign(self, method: str, bucket: str, key: str) -> str:
        return s3_v2_presign(method, bucket, key, self.expires, SWIFT_ACCESS_KEY, SWIFT_SECRET)

    def versions(self) -> dict[str, str]:
        return {"swift": peer_version("swift"), "memcached": "yes" if shutil.which("memcached") else "no"}


# --------------------------------------------------------------------------- nginx
NGINX_CONF = """\
{user}
worker_processes 1;
pid {root}/nginx.pid;
error_log {root}/nginx-error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000;
    keepalive_timeout 120s;
    client_max_body_size 0;
    client_body_temp_path {root}/body-tmp;
    server {{
        listen {host}:{port};
        root {root}/www;
        location / {{
            dav_methods PUT;
            create_full_put_path on;
            dav_access user:rw;
        }}
    }}
}}
"""


class NginxTarget(Target):
    name = "nginx"
    description = "nginx (Debian), 1 worker, static files with sendfile, WebDAV PUT (no fsync); the ceiling"
    stop_signal = signal.SIGTERM

    @staticmethod
    def binary() -> str | None:
        return shutil.which("nginx") or shutil.which("/usr/sbin/nginx")

    def start(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        (self.root / "www").mkdir(exist_ok=True)
        (self.root / "body-tmp").mkdir(exist_ok=True)
        self.port = free_port()
        user = f"user {getpass.getuser()};" if os.geteuid() == 0 else ""
        conf = self.root / "nginx.conf"
        conf.write_text(NGINX_CONF.format(user=user, root=self.root, host=HOST, port=self.port))
        binary = self.binary()
        assert binary is not None
        proc = self._spawn(
            [binary, "-p", str(self.root), "-c", str(conf), "-e", "stderr", "-g", "daemon off;"], "nginx.log"
        )
        wait_listening(self.port, proc=proc)

    def presign(self, method: str, bucket: str, key: str) -> str:
        return f"/{bucket}/{quote(key, safe='/')}"  # static files: no signature to check

    def create_bucket(self, bucket: str) -> None:
        (self.root / "www" / bucket).mkdir(parents=True, exist_ok=True)

    def versions(self) -> dict[str, str]:
        binary = self.binary()
        out = subprocess.run([binary or "nginx", "-v"], capture_output=True, text=True, timeout=30)
        return {"nginx": (out.stderr or out.stdout).strip().rpartition("/")[2]}
