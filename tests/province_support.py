"""Helpers for the province tests: a throw-away PostgreSQL database, a locked-down
province broker, commune stores filled with ratings (with contacts and reasons)."""

from __future__ import annotations

import os
import secrets
import time
import uuid
from pathlib import Path

from hailong.broker import LocalBroker, free_port
from hailong.database import immediate
from sync import contract

# The machine's PostgreSQL (trust auth for postgres on loopback, as here and in CI);
# another server: HAILONG_TEST_PG, a URL to its maintenance database.
PG_ADMIN = os.environ.get("HAILONG_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
PROVINCE_USER, PROVINCE_PASSWORD = "hailong.province", "province-secret"
PHONE = "0912345678"
CONSENT = "Tôi đồng ý để xã gọi lại cho tôi về đánh giá này."


class TempDatabase:
    """CREATE DATABASE on enter, DROP (forcing out connections) on exit."""

    def __init__(self):
        self.name = f"hailong_t_{secrets.token_hex(4)}"
        self.url = PG_ADMIN.rsplit("/", 1)[0] + f"/{self.name}"

    def __enter__(self) -> TempDatabase:
        import psycopg
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{self.name}"')
        return self

    def __exit__(self, *exc) -> None:
        import psycopg
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


def province_toml(folder: Path, url: str, port: int) -> Path:
    path = folder / "province.toml"
    path.write_text(f'[store]\nurl = "{url}"\n\n'
                    f'[broker]\nhost = "127.0.0.1"\nport = {port}\n'
                    f'username = "{PROVINCE_USER}"\npassword = "{PROVINCE_PASSWORD}"\n\n'
                    f'[web]\nport = {free_port()}\nmin_ratings = 30\n\n'
                    f'[broker_files]\ndir = "{folder / "pbroker"}"\n')
    return path


def province_broker(folder: Path, port: int) -> LocalBroker:
    """A mosquitto with the files `hailong province add-commune` writes (call after)."""
    d = folder / "pbroker"
    (d / "data").mkdir(parents=True, exist_ok=True)
    import getpass
    conf = (f"user {getpass.getuser()}\nlistener {port} 127.0.0.1\nallow_anonymous false\n"
            f"password_file {d / 'passwd'}\nacl_file {d / 'acl'}\n"
            f"persistence true\npersistence_location {d / 'data'}/\n"
            "max_queued_messages 100000\nuse_username_as_clientid true\n"
            "log_type all\n")
    return LocalBroker(d, port=port, conf=conf)


def make_ratings(commune: str, n: int, *, seed: int = 0) -> list[bytes]:
    """n valid ratings from kiosk k1, each with a reason, a dossier code, a procedure,
    and (every other one) a consented call-back number."""
    now = time.time()
    boot = str(uuid.UUID(int=seed * 7919 + 1, version=4))
    out = []
    for i in range(n):
        out.append(contract.encode(contract.Rating(
            id=str(uuid.UUID(int=(seed << 64) + i + 1, version=4)), v=1, kiosk="k1",
            commune=commune, counter="q1", score=1 + i % 4, scale=4,
            created_at=now - 600 + i * 0.1, clock_synced=True, boot_id=boot,
            mono=1000.0 + i * 0.1, official=f"cb-{i % 5}",
            reasons=["cho-doi-lau"] if i % 4 == 0 else ["tuoi-cuoi"],
            dossier=f"000.31.12.H29-241123-{i:04d}", procedure="Đăng ký khai sinh",
            field="Hộ tịch", transaction=None,
            contact=contract.Contact(phone=PHONE, consent=True, consent_text=CONSENT)
            if i % 2 == 0 else None)))
    return out


def fill_commune(store_path: Path, commune: str, n: int, *, seed: int) -> int:
    from server.ingest.store import Store
    with Store(store_path) as store:
        with immediate(store.db):
            result = store.add_ratings(commune, "k1", make_ratings(commune, n, seed=seed),
                                       time.time())
    assert not result.rejected, result.rejected[:3]
    return len(result.stored)


__all__ = ["TempDatabase", "free_port", "province_toml", "province_broker", "fill_commune"]


# --- a private PostgreSQL cluster, for the tests that restart or crash it ------------------------

import pytest  # noqa: E402 - this part came later; the part above needs no pytest


class PrivateCluster:
    """A PostgreSQL cluster of the test's own (initdb, trust auth, a free port on
    127.0.0.1), so restarting or crashing it disturbs nobody else on the machine's
    shared server. initdb and pg_ctl refuse to run as root: as root they run as the
    ``postgres`` OS user, in a folder of its own under /tmp (pytest's tmp_path sits in a
    folder only root may enter)."""

    def __init__(self):
        import glob
        import tempfile
        bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
        if not bins:
            raise RuntimeError("no PostgreSQL server binaries in /usr/lib/postgresql/*/bin")
        self.bin = Path(bins[-1]).parent
        self.port = free_port()
        self.folder = Path(tempfile.mkdtemp(prefix="hailong-pg-"))
        self.data = self.folder / "data"
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
        self._as: list[str] = []
        if os.geteuid() == 0:
            import pwd
            pw = pwd.getpwnam("postgres")
            os.chown(self.folder, pw.pw_uid, pw.pw_gid)
            self._as = ["runuser", "-u", "postgres", "--"]

    def _run(self, *args: str, timeout: float = 60) -> None:
        import subprocess
        subprocess.run([*self._as, *args], check=True, capture_output=True, timeout=timeout,
                       cwd=self.folder)

    def pg_ctl(self, action: str, *options: str) -> None:
        self._run(str(self.bin / "pg_ctl"), action, "-D", str(self.data), "-w", "-t", "30",
                  "-l", str(self.folder / "server.log"),
                  "-o", f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.folder}",
                  *options)

    def start(self) -> PrivateCluster:
        self._run(str(self.bin / "initdb"), "-D", str(self.data), "-A", "trust",
                  "-U", "postgres", "-E", "UTF8", "--no-sync")
        self.pg_ctl("start")
        return self

    def restart(self, mode: str = "fast") -> None:
        """``fast``: clients cut, a clean shutdown; ``immediate``: no shutdown at all,
        recovery from the WAL on the way up (a crash, as far as the data can tell)."""
        self.pg_ctl("restart", "-m", mode)

    def log(self) -> str:
        path = self.folder / "server.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def close(self) -> None:
        import shutil
        import subprocess
        if (self.data / "postmaster.pid").exists():
            try:
                self.pg_ctl("stop", "-m", "immediate")
            except subprocess.SubprocessError:
                pass
        shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> PrivateCluster:
        try:
            return self.start()
        except BaseException:
            self.close()
            raise

    def __exit__(self, *exc) -> None:
        self.close()


@pytest.fixture
def private_pg():
    """A private cluster (import this fixture into the test module to use it)."""
    with PrivateCluster() as cluster:
        yield cluster


__all__ += ["PrivateCluster", "private_pg"]
