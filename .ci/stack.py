"""The production stack on loopback: Trefpunt with ``trefpunt.settings.production`` as an
operator runs it (docs/deploy.md), every service on 127.0.0.1, driven over HTTP.

Starts: a fresh PostgreSQL database, a Redis database (the machine's Redis, or one started
here), a local S3 server (moto's server mode) with a bucket, gunicorn with 4 workers, two
RQ task workers (``TREFPUNT_TASK_QUEUE=redis``) and the scheduler. Then, over HTTP only:

- a contest: the client logs in on the web, deposits through the sandbox checkout, posts
  and funds a brief through the API; two entrants upload five PNG entries; the client
  closes entries and awards the prize; the winner's wallet is paid;
- a microtask batch: the client creates a batch, uploads items, publishes it; two workers
  answer every item with ``next`` → ``answer``; the batch reports every item complete;

and checks that the uploads landed in the bucket (by listing it), that the task workers ran
jobs and none failed, and that ``ledger_check`` is clean. Any failure exits non-zero after
printing the logs of every process. Everything it made (database, Redis keys, processes,
temporary files) is removed at the end. Run it through ``.ci/stack``, which bounds it.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BIN = ROOT / ".venv" / "bin"
HOST = "stack.trefpunt.test"
SITE = f"https://{HOST}"
PASSWORD = "stack-Passw0rd-" + "q8Zr"  # a throwaway account's, in a database dropped after
DATABASE = os.environ.get("TREFPUNT_STACK_DB", "trefpunt_stack")
REDIS_DB = int(os.environ.get("TREFPUNT_STACK_REDIS_DB", "13"))
BUCKET = "trefpunt-stack"
WEB_WORKERS = 4
TASK_WORKERS = 2
STARTED = time.monotonic()


class StackFailed(Exception):
    pass


def say(message: str) -> None:
    print(f"[stack {time.monotonic() - STARTED:6.1f} s] {message}", flush=True)


def check(condition: bool, message: str) -> None:
    if not condition:
        raise StackFailed(message)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(what: str, probe: Any, *, seconds: float, every: float = 0.5) -> Any:
    """Call ``probe`` until it returns something true; fail after ``seconds``."""
    end = time.monotonic() + seconds
    last: Any = None
    while time.monotonic() < end:
        try:
            last = probe()
        except Exception as exc:  # a service still starting
            last = exc
        if last and not isinstance(last, Exception):
            return last
        time.sleep(every)
    raise StackFailed(f"{what}: not ready after {seconds:.0f} s (last: {last!r})")


# --- the services ---------------------------------------------------------------------------


class Stack:
    def __init__(self) -> None:
        self.tmp = Path(tempfile.mkdtemp(prefix="trefpunt-stack-"))
        self.logs = self.tmp / "logs"
        self.logs.mkdir()
        self.processes: dict[str, subprocess.Popen[bytes]] = {}
        self.web_port = free_port()
        self.s3_port = free_port()
        self.redis_url = ""
        self.env: dict[str, str] = {}

    # PostgreSQL ------------------------------------------------------------------------------
    def database_create(self) -> str:
        import psycopg

        if subprocess.run(["pg_isready", "-h", "127.0.0.1", "-q"], check=False).returncode:  # noqa: S607
            raise StackFailed("PostgreSQL does not answer on 127.0.0.1:5432")
        with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
            c.execute(f'CREATE DATABASE "{DATABASE}"')
        return f"postgres://postgres@127.0.0.1:5432/{DATABASE}"

    def database_drop(self) -> None:
        import psycopg

        with (
            contextlib.suppress(Exception),
            psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as c,
        ):
            c.execute(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')

    # Redis -----------------------------------------------------------------------------------
    def redis_start(self) -> str:
        import redis

        url = f"redis://127.0.0.1:6379/{REDIS_DB}"
        try:
            redis.Redis.from_url(url).ping()
        except redis.exceptions.ConnectionError:
            server = shutil.which("redis-server")
            if server is None:
                raise StackFailed("no Redis on 127.0.0.1:6379 and no redis-server") from None
            port = free_port()
            self.start("redis", [server, "--bind", "127.0.0.1", "--port", str(port), "--save", ""])
            url = f"redis://127.0.0.1:{port}/{REDIS_DB}"
            wait_for("redis", lambda: redis.Redis.from_url(url).ping(), seconds=20)
        redis.Redis.from_url(url).flushdb()
        return url

    def redis(self) -> Any:
        import redis

        return redis.Redis.from_url(self.redis_url)

    # S3 --------------------------------------------------------------------------------------
    def s3(self) -> Any:
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=f"http://127.0.0.1:{self.s3_port}",
            aws_access_key_id="stack",
            aws_secret_access_key="stack-secret",  # noqa: S106 - moto accepts anything
            region_name="us-east-1",
        )

    def s3_start(self) -> None:
        self.start("s3", [str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(self.s3_port)])
        wait_for("s3", lambda: self.s3().list_buckets() is not None, seconds=60)
        self.s3().create_bucket(Bucket=BUCKET)

    def bucket_keys(self) -> list[str]:
        keys: list[str] = []
        pages = self.s3().get_paginator("list_objects_v2").paginate(Bucket=BUCKET)
        for page in pages:
            keys += [o["Key"] for o in page.get("Contents", [])]
        return keys

    # the platform's processes ----------------------------------------------------------------
    def environment(self, database_url: str) -> dict[str, str]:
        keep = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("TREFPUNT_", "DJANGO_", "AWS_")) and k != "DATABASE_URL"
        }
        return {
            **keep,
            "DJANGO_SETTINGS_MODULE": "trefpunt.settings.production",
            "TREFPUNT_SECRET_KEY": "stack-only-" + uuid.uuid4().hex + uuid.uuid4().hex,
            "TREFPUNT_ALLOWED_HOSTS": HOST,
            "TREFPUNT_SITE_URL": SITE,
            "DATABASE_URL": database_url,
            "TREFPUNT_REDIS_URL": self.redis_url,
            "TREFPUNT_SANDBOX_WEBHOOK_SECRET": uuid.uuid4().hex,
            "TREFPUNT_TASK_QUEUE": "redis",
            "TREFPUNT_S3_BUCKET": BUCKET,
            "TREFPUNT_S3_ENDPOINT_URL": f"http://127.0.0.1:{self.s3_port}",
            "TREFPUNT_S3_REGION": "us-east-1",
            "TREFPUNT_S3_ACCESS_KEY_ID": "stack",
            "TREFPUNT_S3_SECRET_ACCESS_KEY": "stack-secret",
            "TREFPUNT_VAR_DIR": str(self.tmp / "var"),
            "TREFPUNT_STATIC_ROOT": str(self.tmp / "static"),
            "TREFPUNT_LOG_LEVEL": "WARNING",
            "PYTHONUNBUFFERED": "1",
        }

    def start(self, name: str, command: list[str], env: dict[str, str] | None = None) -> None:
        log = (self.logs / f"{name}.log").open("wb")
        self.processes[name] = subprocess.Popen(  # noqa: S603 - our own programs
            command,
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def manage(self, *args: str, timeout: float = 240) -> str:
        done = subprocess.run(  # noqa: S603 - our own entry point
            [str(BIN / "trefpunt"), *args],
            cwd=ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if done.returncode != 0:
            raise StackFailed(f"trefpunt {' '.join(args)}: {done.stdout}\n{done.stderr}")
        return done.stdout

    def platform_start(self) -> None:
        trefpunt = str(BIN / "trefpunt")
        self.start(
            "gunicorn",
            [
                str(BIN / "gunicorn"),
                "trefpunt.wsgi:application",
                "--workers",
                str(WEB_WORKERS),
                "--bind",
                f"127.0.0.1:{self.web_port}",
                "--forwarded-allow-ips",
                "127.0.0.1",
                "--timeout",
                "120",
                "--access-logfile",
                "-",
                "--access-logformat",
                '%(p)s "%(r)s" %(s)s %(M)sms',
            ],
            self.env,
        )
        for n in range(1, TASK_WORKERS + 1):
            extra = ["--with-scheduler"] if n == 1 else []
            self.start(f"rqworker-{n}", [trefpunt, "rqworker", "default", *extra], self.env)
        self.start("scheduler", [trefpunt, "scheduler", "--interval", "10"], self.env)

    def processes_alive(self) -> None:
        dead = {n: p.returncode for n, p in self.processes.items() if p.poll() is not None}
        check(not dead, f"processes ended early: {dead}")

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGTERM)
        for name, process in self.processes.items():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                say(f"{name} did not stop on SIGTERM; killing it")
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)

    def logs_print(self) -> None:
        for path in sorted(self.logs.glob("*.log")):
            lines = path.read_text(errors="replace").splitlines()
            print(f"----- {path.name} (last 40 of {len(lines)} lines) -----")
            print("\n".join(lines[-40:]))


# --- a client as the reverse proxy would forward it -------------------------------------------


class Browser:
    """HTTP to gunicorn as the TLS-terminating proxy forwards it: the site's Host,
    ``X-Forwarded-Proto: https``. Cookies are kept here because they are ``Secure`` (the
    standard cookie jar will not send them over the plain loopback connection)."""

    def __init__(self, port: int, token: str = "") -> None:
        import requests

        self.http = requests.Session()
        self.base = f"http://127.0.0.1:{port}"
        self.token = token
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        headers = {"Host": HOST, "X-Forwarded-Proto": "https", **kwargs.pop("headers", {})}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if method != "GET" and not self.token:
            headers["Origin"] = SITE
            headers["Referer"] = SITE + path
            if "csrftoken" in self.cookies:
                headers["X-CSRFToken"] = self.cookies["csrftoken"]
        response = self.http.request(
            method, self.base + path, headers=headers, allow_redirects=False, timeout=60, **kwargs
        )
        for header in response.raw.headers.getlist("Set-Cookie"):
            jar: SimpleCookie = SimpleCookie()
            jar.load(header)
            for name, morsel in jar.items():
                self.cookies[name] = morsel.value
        return response

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> Any:
        return self.request("POST", path, **kwargs)

    def api(self, method: str, path: str, expect: int, **kwargs: Any) -> Any:
        response = self.request(method, "/api/v1" + path, **kwargs)
        check(
            response.status_code == expect,
            f"{method} /api/v1{path}: {response.status_code} (wanted {expect}): "
            f"{response.text[:500]}",
        )
        return response.json() if response.content else None


def png(seed: int) -> bytes:
    from PIL import Image

    image = Image.new("RGB", (64, 48), (seed * 37 % 256, seed * 91 % 256, seed * 13 % 256))
    for x in range(0, 64, 4):
        image.putpixel((x, seed % 48), (255, 255, 255))
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


# --- the stories ------------------------------------------------------------------------------

USERS = ["client", "entrant-1", "entrant-2", "worker-1", "worker-2"]


def users_create(stack: Stack) -> dict[str, str]:
    """One verified account with a token per role (``createuser --token``)."""
    tokens = {}
    for name in USERS:
        out = stack.manage(
            "createuser",
            "--email",
            f"{name}@stack.trefpunt.test",
            "--password",
            PASSWORD,
            "--name",
            name.replace("-", " ").title(),
            "--token",
        )
        tokens[name] = out.strip().splitlines()[-1]
    return tokens


def web_deposit(stack: Stack, *, token: str, amount: int) -> None:
    """The client logs in on the web (a session in Redis, served by any of the workers) and
    pays a deposit at the sandbox checkout; the wallet shows it through the API."""
    web = Browser(stack.web_port)
    check(web.get("/en/accounts/login/").status_code == 200, "login page")
    login = web.post(
        "/en/accounts/login/",
        data={
            "login": "client@stack.trefpunt.test",
            "password": PASSWORD,
            "csrfmiddlewaretoken": web.cookies.get("csrftoken", ""),
        },
    )
    check(login.status_code == 302, f"log in: {login.status_code} {login.text[:300]}")
    check("sessionid" in web.cookies, "no session cookie after logging in")
    deposit = web.api("POST", "/wallet/deposits", 201, json={"amount": amount})
    checkout = deposit["checkout_url"].removeprefix(SITE)
    check(web.get(checkout).status_code == 200, "sandbox checkout page")
    paid = web.post(
        checkout, data={"action": "confirm", "csrfmiddlewaretoken": web.cookies["csrftoken"]}
    )
    check(paid.status_code == 302, f"sandbox confirm: {paid.status_code} {paid.text[:300]}")
    api = Browser(stack.web_port, token)
    status = api.api("GET", f"/wallet/deposits/{deposit['id']}", 200)["status"]
    check(status == "paid", f"deposit is {status}, not paid")
    balance = api.api("GET", "/wallet", 200)["balance"]
    check(balance == amount, f"wallet holds {balance}, not {amount}")


def contest_story(stack: Stack, tokens: dict[str, str]) -> int:
    """Returns the contest's id; the winner's wallet has been paid."""
    client = Browser(stack.web_port, tokens["client"])
    brief = {
        "title": "A name for our cargo bike",
        "summary": "Short, friendly, easy to say in Dutch and English.",
        "category": "naming",
        "prizes": [20_000],
        "entry_deadline": (datetime.now(UTC) + timedelta(days=4)).isoformat(),
        "max_entries_per_entrant": 3,
    }
    contest = client.api("POST", "/contests", 201, json=brief)
    key = {"Idempotency-Key": f"publish-{uuid.uuid4()}"}
    opened = client.api("POST", f"/contests/{contest['id']}/publish", 200, headers=key)
    check(opened["status"] == "open", f"contest is {opened['status']} after publishing")
    entries = []
    for n, entrant in enumerate(["entrant-1", "entrant-1", "entrant-1", "entrant-2", "entrant-2"]):
        entry = Browser(stack.web_port, tokens[entrant]).api(
            "POST",
            f"/contests/{contest['id']}/entries",
            201,
            data={"title": f"Entry {n + 1}", "originality_declared": "true"},
            files={"files": (f"entry-{n + 1}.png", png(n + 1), "image/png")},
        )
        entries.append(entry)
    listed = client.api("GET", f"/contests/{contest['id']}/entries", 200)
    count = listed["count"] if isinstance(listed, dict) else len(listed)
    check(count == 5, f"the client sees {count} entries, not 5")
    client.api("POST", f"/contests/{contest['id']}/close-entries", 200)
    awards = {"awards": [{"prize": 1, "entry": entries[3]["id"]}]}
    key = {"Idempotency-Key": f"award-{uuid.uuid4()}"}
    awarded = client.api("POST", f"/contests/{contest['id']}/award", 200, json=awards, headers=key)
    check(awarded["status"] == "awarded", f"contest is {awarded['status']} after the award")
    winner = Browser(stack.web_port, tokens["entrant-2"]).api("GET", "/wallet", 200)
    check(winner["balance"] > 0, f"the winner's wallet holds {winner['balance']}")
    say(f"contest {contest['id']}: 5 entries, awarded; winner's wallet {winner['balance']} cents")
    return int(contest["id"])


SENTIMENT = [
    {
        "name": "sentiment",
        "label": "Sentiment",
        "type": "single",
        "choices": [{"value": "pos", "label": "Positive"}, {"value": "neg", "label": "Negative"}],
    }
]


def microtask_story(stack: Stack, tokens: dict[str, str]) -> int:
    client = Browser(stack.web_port, tokens["client"])
    batch = client.api(
        "POST",
        "/batches",
        201,
        json={
            "title": "Sentiment of bike reviews",
            "instructions": "Is the review **positive** or negative?",
            "form": SENTIMENT,
            "display": [{"column": "text", "widget": "text", "label": "Review"}],
            "reward": 10,
            "estimated_seconds": 20,
            "min_answers": 2,
            "max_answers": 2,
        },
    )
    rows = ["text"] + [f'"Review {n}: a fine bike, rides well"' for n in range(1, 7)]
    items = ("\n".join(rows) + "\n").encode()
    added = client.api(
        "POST", f"/batches/{batch['id']}/items", 201, files={"file": ("items.csv", items)}
    )
    check(added["items"] == 6, f"{added} items uploaded, not 6")
    key = {"Idempotency-Key": f"publish-{uuid.uuid4()}"}
    opened = client.api("POST", f"/batches/{batch['id']}/publish", 200, headers=key)
    check(opened["status"] == "open", f"batch is {opened['status']} after publishing")
    answered = 0
    for worker in ["worker-1", "worker-2"]:
        program = Browser(stack.web_port, tokens[worker])
        for _ in range(10):
            response = program.request("POST", f"/api/v1/batches/{batch['id']}/next")
            if response.status_code == 204:
                break
            check(response.status_code == 200, f"next: {response.status_code} {response.text}")
            lease = response.json()
            program.api(
                "POST",
                f"/leases/{lease['id']}/answer",
                201,
                json={"answer": {"sentiment": "pos"}, "seconds": 12},
            )
            answered += 1
    check(answered == 12, f"{answered} answers given, not 6 items × 2")
    progress = client.api("GET", f"/batches/{batch['id']}/progress", 200)
    say(f"batch {batch['id']}: {answered} answers; progress {json.dumps(progress)[:300]}")
    check(progress["items_done"] == 6, f"{progress['items_done']} items complete, not 6")
    check(progress["answers"] == 12, f"the batch counts {progress['answers']} answers, not 12")
    return int(batch["id"])


# --- checks after the stories -----------------------------------------------------------------


def bucket_check(stack: Stack) -> None:
    """Originals under private/, and the winner's portfolio picture under media/: a task
    worker writes that one after the award, so it is waited for."""

    def published() -> bool:
        return any(k.startswith("media/") for k in stack.bucket_keys())

    with contextlib.suppress(StackFailed):
        wait_for("a public object under media/", published, seconds=60)
    keys = stack.bucket_keys()
    private = [k for k in keys if k.startswith("private/")]
    public = [k for k in keys if k.startswith("media/")]
    say(f"bucket {BUCKET}: {len(private)} private and {len(public)} public objects")
    for key in sorted(keys)[:12]:
        print(f"    {key}")
    check(len(private) >= 5, f"the 5 entry originals are not under private/: {keys}")
    check(len(public) >= 1, f"no preview or thumbnail under media/: {keys}")


def task_workers_check(stack: Stack) -> None:
    """The RQ workers drained the queue, ran jobs, and none failed."""
    from rq import Queue
    from rq.registry import FailedJobRegistry, FinishedJobRegistry

    queue = Queue("default", connection=stack.redis())

    def drained() -> bool:
        return queue.count == 0 and len(FinishedJobRegistry(queue=queue)) > 0

    wait_for("task queue drained by the workers", drained, seconds=90)
    failed = FailedJobRegistry(queue=queue)
    finished = len(FinishedJobRegistry(queue=queue))
    workers = {f.decode() for f in stack.redis().smembers("rq:workers")}
    say(f"rq: {finished} jobs finished, {len(failed)} failed, {len(workers)} workers registered")
    check(len(failed) == 0, f"failed jobs: {failed.get_job_ids()}")
    check(len(workers) >= TASK_WORKERS, f"{len(workers)} rq workers registered, not 2")


def web_workers_report(stack: Stack) -> None:
    log = (stack.logs / "gunicorn.log").read_text(errors="replace")
    booted = log.count("Booting worker")
    pids = {line.split(" ", 1)[0] for line in log.splitlines() if '"' in line and "HTTP/" in line}
    say(f"gunicorn: {booted} workers booted, {len(pids)} of them served requests")
    check(booted >= WEB_WORKERS, f"{booted} gunicorn workers booted, not {WEB_WORKERS}")


# --- the run ----------------------------------------------------------------------------------


@contextlib.contextmanager
def stack_running() -> Iterator[Stack]:
    stack = Stack()
    ok = False
    try:
        database_url = stack.database_create()
        stack.redis_url = stack.redis_start()
        stack.s3_start()
        stack.env = stack.environment(database_url)
        say(f"services up: PostgreSQL {DATABASE}, Redis {stack.redis_url}, S3 :{stack.s3_port}")
        stack.manage("check", "--deploy", "--fail-level", "WARNING")
        stack.manage("migrate", "--noinput", "-v", "0", timeout=400)
        stack.manage("collectstatic", "--noinput", "-v", "0")
        say("migrated, static files collected, check --deploy clean")
        stack.platform_start()
        web = Browser(stack.web_port)
        wait_for("gunicorn /healthz", lambda: web.get("/healthz").status_code == 200, seconds=90)
        health = web.get("/healthz").json()
        check(health == {"status": "ok", "database": "ok", "cache": "ok"}, f"healthz {health}")
        stack.processes_alive()
        say(f"gunicorn ({WEB_WORKERS} workers), {TASK_WORKERS} rq workers, scheduler up")
        yield stack
        stack.processes_alive()
        ok = True
    finally:
        stack.stop()
        if not ok:
            stack.logs_print()
        with contextlib.suppress(Exception):
            stack.redis().flushdb()
        stack.database_drop()
        shutil.rmtree(stack.tmp, ignore_errors=True)


def _terminated(signum: int, frame: Any) -> None:
    raise StackFailed(f"stopped by signal {signum} (the time limit of .ci/stack?)")


def main() -> int:
    # ``timeout`` sends SIGTERM: end through ``finally`` so every process, the database and
    # the Redis keys go, and the logs are printed.
    signal.signal(signal.SIGTERM, _terminated)
    try:
        with stack_running() as stack:
            tokens = users_create(stack)
            web_deposit(stack, token=tokens["client"], amount=100_000)
            contest_story(stack, tokens)
            microtask_story(stack, tokens)
            task_workers_check(stack)
            bucket_check(stack)
            web_workers_report(stack)
            print(stack.manage("ledger_check").strip())
    except StackFailed as exc:
        say(f"FAILED: {exc}")
        return 1
    say("passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
