"""A Hugging Face Hub emulator on 127.0.0.1: a "hub" server and a separate "cdn" server for LFS bytes.

The hub answers the endpoints huggingface_hub 2.4 uses (model_info, tree, refs, commits, paths-info,
resolve) with the Hub's JSON shapes and headers (`X-Repo-Commit`, `X-Linked-Etag`, `X-Linked-Size`,
`X-Error-Code`...); LFS files answer `302` to the cdn, which honours `Range` with `206` + `Content-Range`.
No `X-Xet-*` header is ever sent.

Faults are switched on from tests through `HubEmulator.faults` (see `Faults`), every request is recorded in
`HubEmulator.log` (see `RequestLog`), and `HubEmulator.reset()` clears both, plus renames and accepted tokens.
"""

from __future__ import annotations

import fnmatch
import json
import re
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

from hubemu.repos import Blob, Commit, Repo, RepoStore, tree_entries

_CHUNK = 16 * 1024
_IGNORED_RANGE_SNDBUF = 32 * 1024
_HANG_MAX = 60.0
_TREE_PAGE, _TREE_PAGE_EXPANDED = 1000, 50


# --- -----------------------------------------------------------------------------------------------
# Request log


@dataclass
class LogEntry:
    """One request. Recorded before the response leaves, so a client never sees an answer the log lacks."""

    server: str  # "hub" | "cdn"
    method: str
    path: str  # decoded, without the query
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-cased names
    status: int  # 0 when the server never answered (hang) or the client left first
    bytes_sent: int  # body bytes handed to the socket (counted before each write, minus failed writes)
    repo: str | None
    file: str | None

    @property
    def range(self) -> str | None:
        return self.headers.get("range")


class RequestLog:
    """Every request both servers saw, in order. Filters: server, method, repo, file, path_prefix."""

    def __init__(self) -> None:
        self._entries: list[LogEntry] = []
        self._lock = threading.Lock()

    def record(self, entry: LogEntry) -> None:
        with self._lock:
            self._entries.append(entry)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def entries(
        self,
        *,
        server: str | None = None,
        method: str | None = None,
        repo: str | None = None,
        file: str | None = None,
        path_prefix: str | None = None,
    ) -> list[LogEntry]:
        with self._lock:
            found = list(self._entries)
        return [
            e
            for e in found
            if (server is None or e.server == server)
            and (method is None or e.method == method)
            and (repo is None or e.repo == repo)
            and (file is None or e.file == file)
            and (path_prefix is None or e.path.startswith(path_prefix))
        ]

    def count(self, **filters: str | None) -> int:
        return len(self.entries(**filters))

    def bytes_sent(self, **filters: str | None) -> int:
        return sum(e.bytes_sent for e in self.entries(**filters))

    def authorization_values(self, server: str) -> list[str]:
        return [
            e.headers["authorization"] for e in self.entries(server=server) if "authorization" in e.headers
        ]

    def assert_no_authorization_on_cdn(self) -> None:
        leaked = self.entries(server="cdn")
        bad = [e.path for e in leaked if "authorization" in e.headers]
        assert not bad, f"Authorization header reached the CDN on {bad}"


# --- -----------------------------------------------------------------------------------------------
# Faults


@dataclass
class Fault:
    """One switchable misbehaviour. `times=None`: every matching request; otherwise the next `times` ones."""

    kind: str
    where: str = "any"  # "any" | "api" | "resolve" | "cdn" | "files" (resolve + cdn)
    repo: str | None = None
    path: str | None = None  # fnmatch pattern on the file path in the repo
    method: str | None = None
    times: int | None = None
    params: dict[str, Any] = field(default_factory=dict)

    def matches(self, ctx: _Context) -> bool:
        area_ok = (
            self.where == "any" or self.where == ctx.area or (self.where == "files" and ctx.area != "api")
        )
        return (
            area_ok
            and self.times != 0
            and (self.repo is None or self.repo == ctx.repo)
            and (self.path is None or (ctx.file is not None and fnmatch.fnmatchcase(ctx.file, self.path)))
            and (self.method is None or self.method == ctx.method)
        )


@dataclass(frozen=True)
class _Context:
    area: str  # "api" | "resolve" | "cdn" | "other"
    method: str
    repo: str | None
    file: str | None


class Faults:
    """Switch faults on; each helper returns the `Fault` (its `times` counts down as requests hit it).

    Common arguments: `repo` (only that repo), `where` ("any", "api", "resolve", "cdn", "files"), `path`
    (fnmatch on the file path), `method`, `times` (None = permanent).
    """

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._lock = threading.Lock()

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def add(
        self,
        kind: str,
        *,
        where: str = "any",
        repo: str | None = None,
        path: str | None = None,
        method: str | None = None,
        times: int | None = None,
        **params: Any,
    ) -> Fault:
        fault = Fault(kind, where, repo, path, method, times, params)
        with self._lock:
            self._faults.append(fault)
        return fault

    def take(self, kind: str, ctx: _Context) -> Fault | None:
        """The first live fault of `kind` matching the request, counted as used."""
        with self._lock:
            for fault in self._faults:
                if fault.kind == kind and fault.matches(ctx):
                    if fault.times is not None:
                        fault.times -= 1
                    return fault
        return None

    # --- helpers -----------------------------------------------------------------------------------

    def status(
        self,
        code: int,
        *,
        error_code: str | None = None,
        message: str | None = None,
        headers: dict[str, str] | None = None,
        **match: Any,
    ) -> Fault:
        """Answer `code` (with `X-Error-Code: error_code` if given) instead of the real response."""
        return self.add(
            "status", code=code, error_code=error_code, message=message, headers=headers or {}, **match
        )

    def server_error(self, code: int = 503, *, message: str | None = None, **match: Any) -> Fault:
        default = "Service Unavailable" if code == 503 else "Internal Error"
        return self.status(code, message=message or default, **match)

    def rate_limit(self, retry_after: int, *, ratelimit: bool = True, **match: Any) -> Fault:
        """429 with `Retry-After: N` (and `RateLimit: "api";r=0;t=N` unless `ratelimit=False`)."""
        headers = {"Retry-After": str(retry_after)}
        if ratelimit:
            headers["RateLimit"] = f'"api";r=0;t={retry_after}'
            headers["RateLimit-Policy"] = '"fixed window";"api";q=500;w=300'
        return self.status(429, message="Too many requests", headers=headers, **match)

    def not_found(self, what: str, **match: Any) -> Fault:
        """404 `RepoNotFound` ("repo"), `RevisionNotFound` ("revision"), `EntryNotFound` ("file", resolve)."""
        codes = {"repo": "RepoNotFound", "revision": "RevisionNotFound", "file": "EntryNotFound"}
        if what == "file":
            match.setdefault("where", "resolve")
        return self.status(404, error_code=codes[what], **match)

    def gated(self, status: int | None = None, **match: Any) -> Fault:
        """Gate file reads (resolve): 401 anonymous, 403 with a token, or always `status`. API stays open."""
        match.setdefault("where", "resolve")
        return self.add("gated", status=status, **match)

    def delay(self, seconds: float, **match: Any) -> Fault:
        return self.add("delay", seconds=seconds, **match)

    def hang(self, **match: Any) -> Fault:
        """Accept the request and never answer (until `reset()` or shutdown releases the thread)."""
        return self.add("hang", **match)

    def truncate(self, *, at: int | None = None, **match: Any) -> Fault:
        """Announce the full Content-Length, send the body up to file offset `at` (default half), close."""
        return self.add("truncate", at=at, **match)

    def ignore_range(self, **match: Any) -> Fault:
        """Serve `200` and the whole file even when the request has a `Range` header."""
        match.setdefault("where", "files")
        return self.add("ignore_range", **match)

    def malformed_json(self, **match: Any) -> Fault:
        match.setdefault("where", "api")
        return self.add("malformed_json", **match)

    def drop_keys(self, *keys: str, **match: Any) -> Fault:
        """Remove top-level keys (e.g. "sha", "siblings") from model_info answers."""
        match.setdefault("where", "api")
        return self.add("drop_keys", keys=keys, **match)

    def extra_entries(self, *paths: str, **match: Any) -> Fault:
        """Add file entries with these (unsafe) paths to siblings, tree and paths-info answers."""
        match.setdefault("where", "api")
        return self.add("extra_entries", paths=paths, **match)


# --- -----------------------------------------------------------------------------------------------
# The servers


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    emulator: HubEmulator
    role: str


class HubEmulator:
    """Hub + CDN on ephemeral 127.0.0.1 ports. `start()` binds and serves; `stop()` releases everything."""

    def __init__(self, root: Path) -> None:
        self.store = RepoStore(root)
        self.faults = Faults()
        self.log = RequestLog()
        self.renames: dict[str, str] = {}
        self.accepted: dict[str, set[str]] = {}
        self._release = threading.Event()
        self._servers: list[_Server] = []
        self._threads: list[threading.Thread] = []
        self.url = ""
        self.cdn_url = ""

    # --- lifecycle ---------------------------------------------------------------------------------

    def start(self) -> HubEmulator:
        hub, cdn = self._bind("hub", _HubHandler), self._bind("cdn", _CdnHandler)
        self.url = f"http://127.0.0.1:{hub.server_address[1]}"
        self.cdn_url = f"http://127.0.0.1:{cdn.server_address[1]}"
        for server in (hub, cdn):
            thread = threading.Thread(
                target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
            )
            thread.start()
            self._threads.append(thread)
        return self

    def _bind(self, role: str, handler: type[BaseHTTPRequestHandler]) -> _Server:
        server = _Server(("127.0.0.1", 0), handler)
        server.emulator, server.role = self, role
        self._servers.append(server)
        return server

    def stop(self) -> None:
        self._release.set()
        for server in self._servers:
            server.shutdown()
            server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)
        self._servers.clear()
        self._threads.clear()

    def reset(self) -> None:
        """Clear faults, the log, renames and accepted tokens; release hung requests."""
        self.faults.clear()
        self._release.set()
        self._release = threading.Event()
        self.renames.clear()
        self.accepted.clear()
        self.log.clear()

    # --- repos -------------------------------------------------------------------------------------

    def add_repo(self, repo_id: str, files: dict[str, bytes], **options: Any) -> Repo:
        """Serve a new repo built from `{path: bytes}` (options: gated, private, extra_info, tag, lfs)."""
        return self.store.add(repo_id, files, **options)

    def repo(self, repo_id: str) -> Repo:
        found = self.store.get(repo_id)
        if found is None:
            raise KeyError(repo_id)
        return found

    def rename(self, old: str, new: str) -> None:
        """Requests for `old` answer 307 to the same URL with `new` (as the Hub does for renamed repos)."""
        self.renames[old] = new

    def accept(self, repo_id: str, token: str) -> None:
        """`token` belongs to an account that accepted the gated repo's terms."""
        self.accepted.setdefault(repo_id, set()).add(token)

    def hang_until_released(self) -> None:
        self._release.wait(_HANG_MAX)


class _BaseHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        return

    @property
    def emu(self) -> HubEmulator:
        return self.server.emulator

    def do_GET(self) -> None:
        self._handle()

    def do_HEAD(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def _handle(self) -> None:
        split = urlsplit(self.path)
        self._raw_path, self._query = split.path, parse_qs(split.query, keep_blank_values=True)
        self._status = 0
        self._entry: LogEntry | None = None
        self._body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self._ctx = self.context()
        try:
            if self._pre_faults():
                self.route()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
        except (
            Exception
        ) as exc:  # an emulator bug: answer 500 so the test sees it, rather than a dropped socket
            if self._status:
                raise
            self.send_error_json(500, None, f"emulator error: {type(exc).__name__}: {exc}")
        finally:
            self._record()

    def context(self) -> _Context:
        raise NotImplementedError

    def route(self) -> None:
        raise NotImplementedError

    def _record(self) -> LogEntry:
        if self._entry is None:
            headers = {k.lower(): v for k, v in self.headers.items()}
            path = unquote(self._raw_path)
            ctx = self._ctx
            self._entry = LogEntry(
                self.server.role, self.command, path, self._query, headers, 0, 0, ctx.repo, ctx.file
            )
            self.emu.log.record(self._entry)
        return self._entry

    def _start(self, status: int) -> None:
        self._status = status
        self._record().status = status
        self.send_response(status)

    def _pre_faults(self) -> bool:
        """Delay, hang and forced statuses. False when the request has been fully answered (or abandoned)."""
        faults = self.emu.faults
        delay = faults.take("delay", self._ctx)
        if delay is not None:
            time.sleep(float(delay.params["seconds"]))
        if faults.take("hang", self._ctx) is not None:
            self._record()
            self.emu.hang_until_released()
            self.close_connection = True
            return False
        forced = faults.take("status", self._ctx)
        if forced is not None:
            params = forced.params
            message = params["message"] or _default_message(params["error_code"], self._ctx)
            self.send_error_json(params["code"], params["error_code"], message, params["headers"])
            return False
        return True

    # --- responses ---------------------------------------------------------------------------------

    def token(self) -> str | None:
        auth = self.headers.get("Authorization", "")
        return auth[7:] if auth.startswith("Bearer ") else None

    def send_error_json(
        self, status: int, code: str | None, message: str, headers: dict[str, str] | None = None
    ) -> None:
        extra = dict(headers or {})
        if code:
            extra["X-Error-Code"] = code
        extra["X-Error-Message"] = message
        self.send_body(
            status, json.dumps({"error": message}).encode(), "application/json; charset=utf-8", extra
        )

    def send_json(self, data: Any, headers: dict[str, str] | None = None) -> None:
        body = json.dumps(data).encode()
        if self.emu.faults.take("malformed_json", self._ctx) is not None:
            body = body[: max(1, len(body) // 2)]
        self.send_body(200, body, "application/json; charset=utf-8", headers)

    def send_body(
        self,
        status: int,
        body: bytes,
        content_type: str,
        headers: dict[str, str] | None = None,
        *,
        total: int | None = None,
    ) -> None:
        """Headers then body (none for HEAD); a `truncate` fault cuts the body and closes the connection."""
        self._start(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body) if total is None else total))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command == "HEAD":
            return
        cut = self._truncation(len(body))
        self._write(body[:cut])
        if cut < len(body):
            self.close_connection = True
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)

    def _truncation(self, length: int, start: int = 0) -> int:
        fault = self.emu.faults.take("truncate", self._ctx) if length else None
        if fault is None:
            return length
        at = fault.params.get("at")
        return length // 2 if at is None else max(0, min(length, int(at) - start))

    def _write(self, body: bytes) -> None:
        entry = self._record()
        for offset in range(0, len(body), _CHUNK):
            chunk = body[offset : offset + _CHUNK]
            entry.bytes_sent += len(chunk)
            try:
                self.wfile.write(chunk)
            except OSError:
                entry.bytes_sent -= len(chunk)
                raise

    def send_blob(self, blob: Blob, headers: dict[str, str]) -> None:
        """A file with Range support (`206` + `Content-Range`, `416`) unless an `ignore_range` fault is on."""
        spec = self.headers.get("Range")
        if spec and self.emu.faults.take("ignore_range", self._ctx) is None:
            span = _parse_range(spec, blob.size)
            if span is None:
                self.send_body(416, b"", "text/plain", {**headers, "Content-Range": f"bytes */{blob.size}"})
                return
            start, end = span
            headers = {**headers, "Content-Range": f"bytes {start}-{end}/{blob.size}"}
            self._send_file_part(206, blob, start, end, headers)
            return
        if spec:
            # A small send buffer keeps "bytes sent" close to what the client really took before it hung up.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, _IGNORED_RANGE_SNDBUF)
        self._send_file_part(200, blob, 0, blob.size - 1, headers)

    def _send_file_part(self, status: int, blob: Blob, start: int, end: int, headers: dict[str, str]) -> None:
        self._start(status)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(end - start + 1))
        self.send_header("Accept-Ranges", "bytes")
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command == "HEAD":
            return
        length = end - start + 1
        cut = self._truncation(length, start)
        self._write(blob.read(start, start + cut - 1) if cut else b"")
        if cut < length:
            self.close_connection = True
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)


def _default_message(code: str | None, ctx: _Context) -> str:
    return {
        "RepoNotFound": "Repository not found",
        "RevisionNotFound": "Invalid rev id",
        "EntryNotFound": f"Entry not found: {ctx.file}",
        None: "Error",
    }.get(code, str(code))


def _parse_range(spec: str, size: int) -> tuple[int, int] | None:
    unit, _, ranges = spec.partition("=")
    first, _, last = ranges.split(",")[0].strip().partition("-")
    if unit.strip().lower() != "bytes" or not (first or last):
        return None
    try:
        if not first:
            start, end = max(0, size - int(last)), size - 1
        else:
            start, end = int(first), min(size - 1, int(last)) if last else size - 1
    except ValueError:
        return None
    return (start, end) if start <= end and start < size else None


class _HubHandler(_BaseHandler):
    def context(self) -> _Context:
        parts = [unquote(p) for p in self._raw_path.split("/")]
        if len(parts) >= 5 and parts[1] == "api" and parts[2] == "models":
            file = "/".join(parts[7:]) if len(parts) > 7 and parts[5] == "tree" else None
            return _Context("api", self.command, f"{parts[3]}/{parts[4]}", file)
        if len(parts) >= 6 and parts[3] == "resolve":
            return _Context("resolve", self.command, f"{parts[1]}/{parts[2]}", "/".join(parts[5:]))
        return _Context("other", self.command, None, None)

    def route(self) -> None:
        if self._ctx.repo is None:
            self.send_error_json(404, None, "Not found")
            return
        if self._ctx.repo in self.emu.renames:
            self._redirect_renamed(self._ctx.repo, self.emu.renames[self._ctx.repo])
            return
        repo = self._visible_repo(self._ctx.repo)
        if repo is None:
            return
        segments = self._raw_path.split("/")
        if self._ctx.area == "resolve":
            self._resolve(repo, unquote(segments[4]), self._ctx.file or "")
        else:
            self._api(repo, segments[5:])

    def _redirect_renamed(self, old: str, new: str) -> None:
        location = re.sub(f"/{re.escape(old)}(?=/|\\?|$)", f"/{new}", self.path, count=1)
        self.send_body(307, f"Moved to {location}".encode(), "text/plain", {"Location": location})

    def _visible_repo(self, repo_id: str) -> Repo | None:
        repo = self.emu.store.get(repo_id)
        token = self.token()
        if repo is not None and not (repo.private and token not in self.emu.accepted.get(repo_id, set())):
            return repo
        status = 404 if token else 401
        message = "Repository not found" if token else "Invalid username or password."
        self.send_error_json(status, "RepoNotFound", message)
        return None

    def _commit(self, repo: Repo, revision: str) -> Commit | None:
        commit = repo.resolve(revision)
        if commit is None:
            self.send_error_json(404, "RevisionNotFound", f"Invalid rev id: {revision}")
        return commit

    # --- /{repo}/resolve/{rev}/{path} --------------------------------------------------------------

    def _resolve(self, repo: Repo, revision: str, path: str) -> None:
        commit = self._commit(repo, revision)
        if commit is None:
            return
        blob = commit.files.get(path)
        if blob is None:
            message = f"Entry not found: {path}"
            self.send_error_json(404, "EntryNotFound", message, {"X-Repo-Commit": commit.sha})
            return
        if self._gated_denied(repo):
            return
        headers = {"X-Repo-Commit": commit.sha, "Accept-Ranges": "bytes", "Vary": "Origin, Accept-Encoding"}
        if blob.lfs:
            location = f"{self.emu.cdn_url}/lfs/{blob.sha256}?" + urlencode(
                {"repo": repo.repo_id, "file": path, "X-Amz-Signature": blob.sha256[:16]}
            )
            headers["Location"] = location
            headers["ETag"] = f'"{blob.blob_id}"'
            headers["X-Linked-Etag"] = f'"{blob.sha256}"'
            headers["X-Linked-Size"] = str(blob.size)
            self.send_body(
                302, f"Found. Redirecting to {location}".encode(), "text/plain; charset=utf-8", headers
            )
            return
        self.send_blob(blob, {**headers, "ETag": f'"{blob.git_oid}"'})

    def _gated_denied(self, repo: Repo) -> bool:
        fault = self.emu.faults.take("gated", self._ctx)
        if fault is None and (not repo.gated or self.token() in self.emu.accepted.get(repo.repo_id, set())):
            return False
        token = self.token()
        status = (fault.params.get("status") if fault else None) or (403 if token else 401)
        if status == 401:
            message = f"Access to model {repo.repo_id} is restricted. You must be authenticated to access it."
        else:
            message = (
                f"Access to model {repo.repo_id} is restricted and you are not in the authorized list. "
                f"Visit https://huggingface.co/{repo.repo_id} to ask for access."
            )
        self.send_error_json(status, "GatedRepo", message)
        return True

    # --- /api/models/{repo}/... --------------------------------------------------------------------

    def _api(self, repo: Repo, rest: list[str]) -> None:
        action = rest[0] if rest else ""
        if not rest and self.command == "GET":
            self._model_info(repo, repo.branches["main"])
        elif action == "revision" and len(rest) == 2 and self.command == "GET":
            self._model_info(repo, unquote(rest[1]))
        elif action == "tree" and len(rest) >= 2 and self.command == "GET":
            self._tree(repo, unquote(rest[1]), unquote("/".join(rest[2:])))
        elif action == "refs" and self.command == "GET":
            self._refs(repo)
        elif action == "commits" and len(rest) == 2 and self.command == "GET":
            self._commits(repo, unquote(rest[1]))
        elif action == "paths-info" and len(rest) == 2 and self.command == "POST":
            self._paths_info(repo, unquote(rest[1]))
        else:
            self.send_error_json(404, None, "Not found")

    def _model_info(self, repo: Repo, revision: str) -> None:
        commit = self._commit(repo, revision)
        if commit is None:
            return
        info = repo.model_info(commit, blobs=self._query.get("blobs", [""])[0] == "true")
        dropped = self.emu.faults.take("drop_keys", self._ctx)
        for key in dropped.params["keys"] if dropped else ():
            info.pop(key, None)
        if "siblings" in info:
            info["siblings"] += [{"rfilename": p, "size": 1, "blobId": "0" * 40} for p in self._extra_paths()]
        self.send_json(info)

    def _extra_paths(self) -> tuple[str, ...]:
        fault = self.emu.faults.take("extra_entries", self._ctx)
        return tuple(fault.params["paths"]) if fault else ()

    def _tree(self, repo: Repo, revision: str, prefix: str) -> None:
        commit = self._commit(repo, revision)
        if commit is None:
            return
        expand = self._query.get("expand", ["false"])[0] == "true"
        recursive = self._query.get("recursive", ["false"])[0] == "true"
        entries = tree_entries(commit, prefix, recursive=recursive, expand=expand)
        if entries is None:
            self.send_error_json(404, "EntryNotFound", f"{prefix} does not exist on {revision}")
            return
        entries += [{"type": "file", "oid": "0" * 40, "size": 1, "path": p} for p in self._extra_paths()]
        self._send_page(entries, _TREE_PAGE_EXPANDED if expand else _TREE_PAGE)

    def _send_page(self, entries: list[dict[str, Any]], size: int) -> None:
        start = int(self._query.get("cursor", ["0"])[0] or 0)
        headers = {}
        if start + size < len(entries):
            query = {k: v[0] for k, v in self._query.items() if k != "cursor"} | {"cursor": str(start + size)}
            headers["Link"] = f'<{self.emu.url}{self._raw_path}?{urlencode(query)}>; rel="next"'
        self.send_json(entries[start : start + size], headers)

    def _refs(self, repo: Repo) -> None:
        def ref(name: str, full: str, sha: str) -> dict[str, str]:
            return {"name": name, "ref": full, "targetCommit": sha}

        data: dict[str, Any] = {
            "branches": [ref(n, f"refs/heads/{n}", s) for n, s in sorted(repo.branches.items())],
            "tags": [ref(n, f"refs/tags/{n}", s) for n, s in sorted(repo.tags.items())],
            "converts": [],
        }
        if self._query.get("include_prs"):
            data["pullRequests"] = [
                ref(f"refs/pr/{n}", f"refs/pr/{n}", s) for n, s in sorted(repo.pulls.items())
            ]
        self.send_json(data)

    def _commits(self, repo: Repo, revision: str) -> None:
        commit = self._commit(repo, revision)
        history = []
        while commit is not None:
            history.append(
                {
                    "id": commit.sha,
                    "authors": [{"user": repo.repo_id.split("/")[0]}],
                    "date": commit.date,
                    "title": commit.title,
                    "message": "",
                }
            )
            commit = repo.commits.get(commit.parent or "")
        if history:
            self.send_json(history)

    def _paths_info(self, repo: Repo, revision: str) -> None:
        commit = self._commit(repo, revision)
        if commit is None:
            return
        form = parse_qs(self._body.decode(), keep_blank_values=True)
        expand = form.get("expand", ["false"])[0].lower() == "true"
        found: list[dict[str, Any]] = []
        for path in form.get("paths", []):
            listing = tree_entries(commit, path, recursive=False, expand=expand)
            if path.strip("/") in commit.files and listing:
                found += listing
            elif listing is not None:
                found.append({"type": "directory", "oid": "0" * 40, "path": path.strip("/")})
        found += [{"type": "file", "oid": "0" * 40, "size": 1, "path": p} for p in self._extra_paths()]
        self.send_json(found)


class _CdnHandler(_BaseHandler):
    def context(self) -> _Context:
        return _Context(
            "cdn", self.command, self._query.get("repo", [None])[0], self._query.get("file", [None])[0]
        )

    def route(self) -> None:
        sha = self._raw_path.rsplit("/", 1)[-1]
        blob = _find_blob(self.emu.store, sha)
        if blob is None or not self._raw_path.startswith("/lfs/"):
            self.send_body(404, b"<Error><Code>NoSuchKey</Code></Error>", "application/xml")
            return
        self.send_blob(blob, {"ETag": f'"{sha}"', "Cache-Control": "public, max-age=604800, immutable"})


def _find_blob(store: RepoStore, sha: str) -> Blob | None:
    for repo in list(store.repos.values()):
        for commit in list(repo.commits.values()):
            for blob in commit.files.values():
                if blob.sha256 == sha and blob.lfs:
                    return blob
    return None
