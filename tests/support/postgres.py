"""A throwaway PostgreSQL server for the test session.

``PostgresCluster`` runs ``initdb`` into a fresh temporary directory, starts a
server on a free loopback port with durability switched off (the data is
thrown away, so fsync and friends only cost time), hands out one fresh
database per test, and removes everything on ``stop()``.

The directory goes on ``/dev/shm`` (RAM) when it is there with room to
spare, else in ``tempfile.gettempdir()``: measured here, tmpfs makes
CREATE DATABASE ~7x faster (30 ms vs 220 ms) and start-up 2x faster.

Running as root (CI and the dev machines here)
    The server refuses to run as root, so ``initdb`` and ``pg_ctl`` are run
    through ``runuser -u postgres --`` and the temporary directory is chowned
    to ``postgres``. This needs the ``postgres`` OS user, which the Debian
    ``postgresql-NN`` package creates.

Running as an ordinary user (a laptop)
    ``initdb`` and ``pg_ctl`` are run directly as the current user; no
    ``postgres`` OS user is needed. Put the server binaries on ``PATH`` or
    install them under ``/usr/lib/postgresql/NN/bin`` (Debian/Ubuntu layout);
    on other systems e.g. ``PATH=$(pg_config --bindir):$PATH``.

The client side (``psql`` for CREATE/DROP DATABASE, asyncpg in the tests)
always connects over TCP to ``127.0.0.1`` as the ``peerboard`` superuser with
``trust`` authentication, so it never needs the OS user to match.

Everything here is synchronous on purpose: pytest-asyncio runs tests inside
an event loop, and fixtures must be able to create databases without
touching (or blocking on) that loop's connections.
"""

from __future__ import annotations

import atexit
import contextlib
import glob
import os
import pwd
import re
import shlex
import shutil
import signal
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path

__all__ = ["PostgresCluster", "PostgresError", "available", "find_bin_dir", "unique_db_name"]

SUPERUSER = "peerboard"
OS_USER = "postgres"  # the OS account the server runs as when we are root
_TMP_PREFIX = "peerboard-pg-"  # also used to find clusters leaked by killed sessions
_OWNER_FILE = "owner.pid"  # pid of the Python process that owns a cluster dir
_IDENT_RE = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")  # 63 bytes = NAMEDATALEN - 1
_START_ATTEMPTS = 3  # the free port can be taken between probing and binding
_SHM_DIR = "/dev/shm"
_SHM_MIN_FREE = 1 << 30  # containers often mount a 64 MiB /dev/shm: too small for a cluster


class PostgresError(RuntimeError):
    """The throwaway server could not be set up, started or driven."""


def _version_key(path: str) -> tuple[int, ...]:
    """Sort ``/usr/lib/postgresql/15/bin`` above ``.../9.6/bin`` numerically."""
    version = Path(path).parent.name
    return tuple(int(p) for p in re.findall(r"\d+", version)) or (0,)


def find_bin_dir() -> Path | None:
    """Directory holding ``initdb``, ``pg_ctl`` (and usually ``psql``), or None.

    ``PATH`` wins so a developer can choose a version; on Debian the PATH entry
    is often a symlink into ``/usr/lib/postgresql/NN/bin``, so resolve it to
    find the sibling binaries of the same version.
    """
    on_path = shutil.which("initdb")
    if on_path is not None:
        bin_dir = Path(on_path).resolve().parent
        if (bin_dir / "pg_ctl").exists():
            return bin_dir
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_version_key, reverse=True)
    for candidate in candidates:
        bin_dir = Path(candidate)
        if (bin_dir / "initdb").exists() and (bin_dir / "pg_ctl").exists():
            return bin_dir
    return None


def _find_psql(bin_dir: Path) -> str | None:
    # Prefer the psql matching the server; /usr/bin/psql on Debian is a
    # pg_wrapper script that may pick another version or need a config.
    local = bin_dir / "psql"
    if local.exists():
        return str(local)
    return shutil.which("psql")


def _default_base_dir() -> str:
    """Where cluster directories go: tmpfs if usable, else the temp dir."""
    try:
        if (
            os.path.isdir(_SHM_DIR)
            and os.access(_SHM_DIR, os.W_OK | os.X_OK)
            and shutil.disk_usage(_SHM_DIR).free >= _SHM_MIN_FREE
        ):
            return _SHM_DIR
    except OSError:
        pass
    return tempfile.gettempdir()


def _is_root() -> bool:
    return os.geteuid() == 0


def available() -> tuple[bool, str]:
    """Whether a throwaway cluster can be started here, and if not, why not."""
    bin_dir = find_bin_dir()
    if bin_dir is None:
        return False, (
            "PostgreSQL server binaries not found (no initdb on PATH and none under "
            "/usr/lib/postgresql/*/bin); install e.g. the Debian package postgresql-15"
        )
    if _find_psql(bin_dir) is None:
        return False, f"psql not found (looked in {bin_dir} and on PATH)"
    if _is_root():
        if shutil.which("runuser") is None:
            return False, "running as root but runuser (util-linux) is not installed"
        try:
            pwd.getpwnam(OS_USER)
        except KeyError:
            return (
                False,
                f"running as root but there is no {OS_USER!r} OS user to run the server as",
            )
    return True, f"PostgreSQL binaries in {bin_dir}"


def _free_port() -> int:
    # Binding port 0 lets the kernel choose an unused port. It is released
    # before the server binds it, so start() retries if someone else wins.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _clean_env() -> dict[str, str]:
    # PG* variables from the developer's shell (PGHOST, PGDATABASE, PGSERVICE,
    # PGSSLMODE, PGOPTIONS...) would silently redirect or alter our commands.
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env["LC_ALL"] = "C"  # stable, untranslated messages in errors and logs
    return env


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    return True


def unique_db_name(hint: str = "t") -> str:
    """A valid, unique database name that still says what made it (e.g. a test name)."""
    slug = re.sub(r"[^a-z0-9]+", "_", hint.lower()).strip("_")[:40] or "t"
    return f"t_{slug}_{uuid.uuid4().hex[:8]}"


def _quote_ident(name: str) -> str:
    # Names are restricted to a safe alphabet, so quoting is belt and braces;
    # it also stops PostgreSQL from case-folding them.
    if not _IDENT_RE.match(name):
        raise ValueError(f"invalid database name {name!r}: use [a-z_][a-z0-9_]*, at most 63 chars")
    return f'"{name}"'


class PostgresCluster:
    """One throwaway PostgreSQL server, owned by this process.

    >>> cluster = PostgresCluster(); cluster.start()
    >>> url = cluster.create_database("t_example")   # postgresql+asyncpg://...
    >>> cluster.drop_database("t_example"); cluster.stop()

    Not thread-safe; meant for one pytest session (one per xdist worker: each
    gets its own port and directory, so workers do not interfere).
    """

    def __init__(
        self,
        *,
        bin_dir: Path | None = None,
        base_dir: str | None = None,
        start_timeout: float = 60.0,
    ) -> None:
        """``bin_dir``: server binaries (default: ``find_bin_dir()``);
        ``base_dir``: parent of the cluster directory (default: /dev/shm if
        usable, else the temp dir); ``start_timeout``: seconds for pg_ctl -w."""
        self._bin_dir = bin_dir
        self._base_dir = base_dir
        self._start_timeout = start_timeout
        self._tmpdir: Path | None = None
        self._port: int | None = None
        self._as_os_user = _is_root()
        self._server_version_num = 0

    # -- public API ----------------------------------------------------------

    @property
    def port(self) -> int:
        if self._port is None:
            raise PostgresError("cluster is not running; call start() first")
        return self._port

    @property
    def running(self) -> bool:
        return self._port is not None

    def url(self, dbname: str = "postgres") -> str:
        """SQLAlchemy URL of ``dbname`` (asyncpg driver)."""
        return f"postgresql+asyncpg://{SUPERUSER}@127.0.0.1:{self.port}/{dbname}"

    def start(self) -> None:
        """initdb into a fresh temp dir and start the server; idempotent."""
        if self.running:
            return
        ok, reason = available()
        if not ok:
            raise PostgresError(reason)
        if self._bin_dir is None:
            self._bin_dir = find_bin_dir()
        _reap_stale_clusters()

        tmpdir = Path(
            tempfile.mkdtemp(prefix=_TMP_PREFIX, dir=self._base_dir or _default_base_dir())
        )
        self._tmpdir = tmpdir
        # Registered before anything can fail so a half-started server is
        # still cleaned up when the interpreter exits (e.g. a crashed session).
        atexit.register(self.stop)
        try:
            (tmpdir / _OWNER_FILE).write_text(str(os.getpid()))
            if self._as_os_user:
                pw = pwd.getpwnam(OS_USER)
                os.chown(tmpdir, pw.pw_uid, pw.pw_gid)
            self._initdb()
            self._start_server()
            self._server_version_num = int(self.execute("SHOW server_version_num").strip())
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Kill the server (no checkpoint: the data is discarded) and delete it.

        Idempotent and never raises, so it is safe from atexit and finalizers.
        """
        atexit.unregister(self.stop)
        tmpdir, self._tmpdir, self._port = self._tmpdir, None, None
        if tmpdir is None:
            return
        pid_file = tmpdir / "data" / "postmaster.pid"
        if pid_file.exists():
            # Broad on purpose: stop() runs from finalizers and atexit, where
            # an exception would hide the real test failure.
            with contextlib.suppress(Exception):
                self._run_server_tool(
                    [
                        "pg_ctl",
                        "-D",
                        str(tmpdir / "data"),
                        "-m",
                        "immediate",
                        "-w",
                        "-t",
                        "30",
                        "stop",
                    ],
                    cwd=tmpdir,
                    check=False,
                    timeout=60,
                )
            # If pg_ctl could not stop it, signal the postmaster ourselves:
            # deleting the directory under a live server would orphan it.
            with contextlib.suppress(Exception):
                pid = int(pid_file.read_text().split()[0])
                if _pid_alive(pid):
                    os.kill(pid, signal.SIGQUIT)  # SIGQUIT = immediate shutdown
        shutil.rmtree(tmpdir, ignore_errors=True)

    def create_database(self, name: str, *, template: str | None = None) -> str:
        """Create a fresh, empty database and return its URL.

        ``template`` clones another database instead of ``template1`` (e.g. one
        migrated once per session); the template must have no open connections.
        """
        sql = f"CREATE DATABASE {_quote_ident(name)}"
        if template is not None:
            sql += f" TEMPLATE {_quote_ident(template)}"
        if self._server_version_num >= 150000:
            # PostgreSQL 15 made WAL_LOG the default: it writes the whole
            # template through the WAL. FILE_COPY copies the files and
            # checkpoints, which is cheap with fsync=off (~25% faster here).
            sql += " STRATEGY FILE_COPY"
        self.execute(sql)
        return self.url(name)

    def drop_database(self, name: str) -> None:
        """Drop ``name`` if it exists, terminating connections still open to it
        (a test that leaked a connection must not make teardown hang or fail)."""
        self.execute(f"DROP DATABASE IF EXISTS {_quote_ident(name)} WITH (FORCE)")

    def execute(self, sql: str, dbname: str = "postgres") -> str:
        """Run ``sql`` through psql (synchronously) and return its output."""
        assert self._bin_dir is not None
        psql = _find_psql(self._bin_dir)
        if psql is None:
            raise PostgresError("psql not found")
        # CREATE/DROP DATABASE cannot run in a transaction block: -c sends a
        # single statement outside one. ON_ERROR_STOP makes errors exit non-zero.
        cmd = [
            psql,
            "-X",
            "-q",
            "-A",
            "-t",
            "-v",
            "ON_ERROR_STOP=1",
            "-h",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-U",
            SUPERUSER,
            "-d",
            dbname,
            "-c",
            sql,
        ]
        proc = subprocess.run(
            cmd,
            env=_clean_env(),
            capture_output=True,
            text=True,
            timeout=60,
            stdin=subprocess.DEVNULL,
        )
        if proc.returncode != 0:
            raise PostgresError(
                f"psql failed ({proc.returncode}) running {sql!r}:\n{proc.stderr.strip()}"
            )
        return proc.stdout

    def log_tail(self, lines: int = 40) -> str:
        """Last lines of the server log (for error messages and debugging)."""
        if self._tmpdir is None:
            return "(no cluster directory)"
        try:
            text = (self._tmpdir / "server.log").read_text(errors="replace")
        except OSError as exc:
            return f"(server log unreadable: {exc})"
        return "\n".join(text.splitlines()[-lines:])

    def __enter__(self) -> PostgresCluster:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- internals -----------------------------------------------------------

    def _run_server_tool(
        self, argv: list[str], *, cwd: Path, check: bool = True, timeout: float = 120.0
    ) -> subprocess.CompletedProcess[str]:
        assert self._bin_dir is not None
        cmd = [str(self._bin_dir / argv[0]), *argv[1:]]
        if self._as_os_user:
            # The server refuses to run as root; runuser needs no password/tty.
            cmd = ["runuser", "-u", OS_USER, "--", *cmd]
        # cwd: initdb/postgres warn or fail if they cannot access the cwd,
        # which as the postgres user may be a root-only directory.
        # stdin/stdout: pg_ctl's server inherits them; pipes would keep our
        # capture open until the server exits, so the log goes to a file.
        proc = subprocess.run(
            cmd,
            cwd=cwd,
            env=_clean_env(),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if check and proc.returncode != 0:
            raise PostgresError(
                f"{argv[0]} failed ({proc.returncode}): {shlex.join(cmd)}\n"
                f"--- output ---\n{(proc.stdout + proc.stderr).strip()}\n"
                f"--- server log tail ---\n{self.log_tail()}"
            )
        return proc

    def _initdb(self) -> None:
        assert self._tmpdir is not None
        self._run_server_tool(
            [
                "initdb",
                "-D",
                str(self._tmpdir / "data"),
                "-A",
                "trust",
                "-U",
                SUPERUSER,
                "-E",
                "UTF8",
                "--locale=C",  # deterministic sorting whatever the host locale
                "--no-sync",  # no fsync of the new files: ~2x faster initdb
                "--no-instructions",
            ],
            cwd=self._tmpdir,
        )

    def _start_server(self) -> None:
        assert self._tmpdir is not None
        last_error: PostgresError | None = None
        for _ in range(_START_ATTEMPTS):
            port = _free_port()
            options = shlex.join(
                [
                    "-p",
                    str(port),
                    "-k",
                    str(self._tmpdir),  # unix socket in our dir, not /var/run/postgresql
                    "-c",
                    "listen_addresses=127.0.0.1",
                    "-c",
                    "fsync=off",
                    "-c",
                    "synchronous_commit=off",
                    "-c",
                    "full_page_writes=off",
                    "-c",
                    "max_connections=200",
                ]
            )
            proc = self._run_server_tool(
                [
                    "pg_ctl",
                    "-D",
                    str(self._tmpdir / "data"),
                    "-l",
                    str(self._tmpdir / "server.log"),
                    "-w",
                    "-t",
                    str(int(self._start_timeout)),
                    "-o",
                    options,
                    "start",
                ],
                cwd=self._tmpdir,
                check=False,
                timeout=self._start_timeout + 30,
            )
            if proc.returncode == 0:
                self._port = port
                return
            log = self.log_tail()
            last_error = PostgresError(
                f"pg_ctl start failed ({proc.returncode}) on port {port}:\n"
                f"{(proc.stdout + proc.stderr).strip()}\n--- server log tail ---\n{log}"
            )
            # Only a lost race for the port is worth retrying.
            if "could not bind" not in log and "Address already in use" not in log:
                break
            # The next attempt probes a fresh free port, so it can start at once.
        assert last_error is not None
        raise last_error


def _reap_stale_clusters() -> None:
    """Stop and delete clusters left by sessions that died without atexit
    (SIGKILL, OOM killer, CI timeout), so reused machines do not pile up servers.

    A cluster is stale when the process recorded in its owner file is gone;
    live sessions (other xdist workers, a parallel run) are left alone.
    """
    base_dirs = {_SHM_DIR, tempfile.gettempdir()}
    paths = [
        p for base in sorted(base_dirs) for p in glob.glob(os.path.join(base, _TMP_PREFIX + "*"))
    ]
    for path in paths:
        tmpdir = Path(path)
        try:
            owner = int((tmpdir / _OWNER_FILE).read_text().strip())
        except (OSError, ValueError):
            continue  # not ours, or being created right now
        if _pid_alive(owner):
            continue
        stale = PostgresCluster()
        stale._tmpdir = tmpdir
        stale._bin_dir = find_bin_dir()
        stale._as_os_user = _is_root()
        stale.stop()
