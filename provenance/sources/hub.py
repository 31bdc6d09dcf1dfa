"""The Hugging Face Hub as a source: metadata, small files and header prefixes, never whole weight files.

Everything goes through huggingface_hub (its session, headers, URL builders, cache), wrapped in our own
retry loop, because `model_info` and the ranged GETs have none and its default timeouts are unbounded:

* `HubSource(repo)` calls `HfApi.model_info(repo, revision, files_metadata=True)` once. Its `sha` pins every
  later read to that commit, so a branch that moves during the scan cannot mix two snapshots.
* `read(path, limit)`: small files (card, configs, index, license). The listed size is checked against
  `limit` first; then the HF cache (commit-pinned, so a cached file is the file); otherwise one HEAD of ours
  (retried, bounded) and `hf_hub_download(revision=commit)`, which stores the file in `$HF_HOME` for later
  offline scans. Its GET is bounded by `HF_HUB_DOWNLOAD_TIMEOUT` (read by huggingface_hub at import) and it
  resumes a cut body itself; if that still fails we raise "incomplete download", never return a partial file.
* `read_prefix(path, length)`: one GET with `Range: bytes=0-{length-1}` through huggingface_hub's session,
  redirects followed by hand; like huggingface_hub, the `authorization` header is dropped when a redirect
  leaves the Hub's origins (the LFS CDN). A server that ignores `Range` is read only up to `length` bytes,
  then the connection is closed, and a finding says so. A body shorter than announced raises "incomplete
  download".

Retry policy (per operation): 429, 408, 5xx, timeouts and dropped connections are retried, at most
`max_attempts` tries within `deadline` seconds; each request times out after `timeout` seconds (clipped to the
time left). A 429 waits `RateLimit t=` or `Retry-After` when given, else the backoff (`backoff` x 2^n, at most
4 s); a wait longer than `max_retry_after` stops at once with RateLimitedError. Answers (404, gated, bad
revision, malformed JSON) are never retried.

Offline: with `HF_HUB_OFFLINE=1` the constructor raises HubUnavailableError("offline mode ...") before any
request; `sources.resolve` then falls back to the HF cache and the bundled knowledge base.

Tokens: `token=None` lets huggingface_hub resolve one (`HF_TOKEN`, then the token file). No message, hint,
finding or fact we produce contains it: every text that may quote a server answer is scrubbed.
"""

from __future__ import annotations

import email.utils
import hashlib
import os
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, NoReturn, TypeVar
from urllib.parse import quote, urljoin, urlsplit

import httpx2
from huggingface_hub import (
    HfApi,
    constants,
    get_hf_file_metadata,
    get_session,
    hf_hub_download,
    hf_hub_url,
    hf_raise_for_status,
    try_to_load_from_cache,
)
from huggingface_hub.errors import (
    EntryNotFoundError,
    HfHubHTTPError,
    LocalEntryNotFoundError,
    OfflineModeIsEnabled,
    RepositoryNotFoundError,
)
from huggingface_hub.errors import (
    GatedRepoError as HfGatedRepoError,
)
from huggingface_hub.errors import (
    RevisionNotFoundError as HfRevisionNotFoundError,
)
from huggingface_hub.hf_api import ModelInfo
from huggingface_hub.utils import build_hf_headers  # type: ignore[attr-defined]  # lazily exported

from provenance import __version__
from provenance.errors import EntryNotFoundError as ListedFileMissingError
from provenance.errors import (
    GatedRepoError,
    HubError,
    HubUnavailableError,
    InputError,
    LimitExceededError,
    ProvenanceError,
    RateLimitedError,
    RepoNotFoundError,
    RevisionNotFoundError,
)
from provenance.model import Fact, FileEntry, Finding, Origin, Severity
from provenance.sources.interface import Source, TargetInfo

DEFAULT_TIMEOUT = 10.0
DEFAULT_MAX_ATTEMPTS = 4
DEFAULT_DEADLINE = 60.0
DEFAULT_MAX_RETRY_AFTER = 30.0
DEFAULT_BACKOFF = 0.5
_BACKOFF_MAX = 4.0
_RETRY_STATUSES = frozenset({408, 500, 502, 503, 504})
_MAX_REDIRECTS = 5
_COMMIT = re.compile(r"^[0-9a-f]{40}$")
_REPO_ID = re.compile(r"^[A-Za-z0-9][\w.-]{0,95}/[A-Za-z0-9][\w.-]{0,95}$")
_TOKEN_SHAPE = re.compile(r"\bhf_[A-Za-z0-9]{20,}\b")
_CONTENT_RANGE = re.compile(r"^\s*bytes\s+(\d+)-(\d+)/(\d+|\*)\s*$")
_RELATIONS = frozenset({"adapter", "finetune", "merge", "quantized", "distillation"})
_RATELIMIT = re.compile(r";\s*r\s*=\s*0\s*;\s*t\s*=\s*(\d+)")
_LIBRARY_NAME = "provenance"

T = TypeVar("T")


def offline_mode() -> bool:
    """HF_HUB_OFFLINE (or TRANSFORMERS_OFFLINE) now, or as huggingface_hub read it at import."""
    flags = (os.environ.get("HF_HUB_OFFLINE", ""), os.environ.get("TRANSFORMERS_OFFLINE", ""))
    return any(f.strip().lower() in {"1", "true", "yes", "on"} for f in flags) or constants.is_offline_mode()


@dataclass(frozen=True)
class _Failure:
    """One retryable failed attempt: what happened, and how long the server asked us to wait (if it did)."""

    label: str
    wait: float | None = None
    rate_limited: bool = False


class _IncompleteError(Exception):
    def __init__(self, path: str, received: int, expected: int) -> None:
        super().__init__(f"incomplete download of {path} (received {received} of {expected} bytes)")


class HubSource(Source):
    """One model repo on the Hub at one commit. Construction makes one metadata request (plus retries)."""

    def __init__(
        self,
        repo_id: str,
        revision: str | None = None,
        *,
        token: str | None = None,
        requested: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        deadline: float = DEFAULT_DEADLINE,
        max_retry_after: float = DEFAULT_MAX_RETRY_AFTER,
        backoff: float = DEFAULT_BACKOFF,
        endpoint: str | None = None,
    ) -> None:
        self._repo = self._requested_repo = repo_id
        self._revision = revision
        self._target = f"{repo_id}@{revision}" if revision else repo_id
        self._token = token
        self._timeout, self._max_attempts, self._deadline = timeout, max(1, max_attempts), deadline
        self._max_retry_after, self._backoff = max_retry_after, backoff
        self._endpoint = (endpoint or constants.ENDPOINT).rstrip("/")
        self._findings: list[Finding] = []
        self._range_ignored: set[str] = set()
        if offline_mode():
            raise HubUnavailableError(
                self._target,
                "offline mode (HF_HUB_OFFLINE=1): the Hub is not contacted",
                hint="the local HF cache is used if it holds this repo; unset HF_HUB_OFFLINE to use the Hub",
            )
        self._api = HfApi(
            endpoint=self._endpoint, token=token, library_name=_LIBRARY_NAME, library_version=__version__
        )
        self._model = self._with_retries(f"GET {self._info_url()}", self._fetch_info)
        self._commit = self._check_info(self._model)
        canonical = self._canonical_id(self._model, repo_id)
        notes = (f"the Hub redirected {repo_id} to {canonical} (renamed repo)",) if canonical else ()
        self._repo = canonical or repo_id
        self._info = TargetInfo(
            requested=requested or self._target,
            kind="hub",
            repo_id=repo_id,
            revision=revision,
            commit=self._commit,
            canonical_id=canonical,
            notes=notes,
        )
        self._files = self._list_files(self._model)

    # --- Source ------------------------------------------------------------------------------------

    @property
    def info(self) -> TargetInfo:
        return self._info

    def files(self) -> list[FileEntry]:
        return list(self._files.values())

    def findings(self) -> list[Finding]:
        return list(self._findings)

    def read(self, path: str, limit: int) -> bytes:
        entry = self._entry(path)
        where = f"{self._repo}:{path}"
        if entry.size is not None and entry.size > limit:
            raise LimitExceededError(where, f"file is {entry.size} bytes, over the {limit}-byte read cap")
        local = self._cached(path)
        if local is None:
            size = self._with_retries(f"HEAD {path}", lambda timeout: self._head(path, timeout))
            if size is not None and size > limit:
                raise LimitExceededError(where, f"file is {size} bytes, over the {limit}-byte read cap")
            local = self._with_retries(f"download {path}", lambda _timeout: self._download(path))
        data = _read_local(local, where, limit)
        self._check_hash(entry, data)
        return data

    def read_prefix(self, path: str, length: int) -> bytes:
        entry = self._entry(path)
        if length <= 0 or entry.size == 0:
            return b""
        url = hf_hub_url(self._repo, path, revision=self._commit, endpoint=self._endpoint)
        return self._with_retries(
            f"GET {path} (bytes 0-{length - 1})", lambda timeout: self._range_get(url, path, length, timeout)
        )

    def facts(self) -> list[Fact]:
        info = self._model
        facts = [self._fact("hub.sha", self._commit, "sha")]
        tags = [t for t in info.tags or [] if isinstance(t, str)]
        facts += [self._fact("hub.tag", tag, "tags") for tag in tags]
        licenses = [t.removeprefix("license:") for t in tags if t.startswith("license:")]
        facts += [self._fact("hub.license", lic, "tags") for lic in licenses]
        facts += [self._fact("hub.base_model", edge, "tags") for edge in _base_models_from_tags(tags)]
        facts += self._card_facts()
        base_models = _base_models_field(info.base_models)
        facts += [self._fact("hub.base_model", edge, "baseModels") for edge in base_models]
        facts.append(self._fact("hub.gated", info.gated if info.gated is not None else False, "gated"))
        for kind, key, value in (
            ("hub.pipeline_tag", "pipeline_tag", info.pipeline_tag),
            ("hub.library_name", "library_name", info.library_name),
            ("hub.private", "private", info.private),
            ("hub.config", "config", info.config),
            ("hub.last_modified", "lastModified", _iso(info.last_modified)),
        ):
            if value is not None:
                facts.append(self._fact(kind, value, key))
        if info.safetensors is not None:
            params = {"parameters": dict(info.safetensors.parameters), "total": info.safetensors.total}
            facts.append(self._fact("hub.safetensors_parameters", params, "safetensors"))
        return facts

    # --- metadata ----------------------------------------------------------------------------------

    def _info_url(self) -> str:
        rev = f"/revision/{quote(self._revision, safe='')}" if self._revision else ""
        return f"{self._endpoint}/api/models/{self._requested_repo}{rev}?blobs=true"

    def _fetch_info(self, timeout: float) -> ModelInfo:
        try:
            return self._api.model_info(
                self._requested_repo, revision=self._revision, files_metadata=True, timeout=timeout
            )
        except (HfHubHTTPError, httpx2.HTTPError, OfflineModeIsEnabled):
            raise
        except ValueError as exc:
            problem = f"malformed answer from {self._info_url()}: not valid JSON ({_first_line(exc)})"
            raise self._error(HubError, self._target, problem, _MALFORMED_HINT) from exc
        except (KeyError, TypeError, AttributeError) as exc:
            shape = f"{type(exc).__name__}: {exc}"
            problem = f"malformed answer from {self._info_url()}: unexpected shape ({shape})"
            raise self._error(HubError, self._target, problem, _MALFORMED_HINT) from exc

    def _check_info(self, info: ModelInfo) -> str:
        if not isinstance(info.sha, str) or not _COMMIT.match(info.sha):
            problem = (
                f"the answer of {self._info_url()} has no commit hash ('sha'); the snapshot cannot be pinned"
            )
            raise self._error(HubError, self._target, problem, _MALFORMED_HINT)
        if info.siblings is None:
            problem = f"the answer of {self._info_url()} lists no files ('siblings' missing)"
            raise self._error(HubError, self._target, problem, _MALFORMED_HINT)
        return info.sha

    def _canonical_id(self, info: ModelInfo, requested: str) -> str | None:
        """The id the Hub answered with, when it differs (a renamed repo); it must be a plain `org/name`."""
        if info.id == requested:
            return None
        if not isinstance(info.id, str) or not _REPO_ID.match(info.id) or ".." in info.id:
            problem = f"the answer of {self._info_url()} names an invalid repo id {str(info.id)[:100]!r}"
            raise self._error(HubError, self._target, problem, _MALFORMED_HINT)
        return info.id

    def _list_files(self, info: ModelInfo) -> dict[str, FileEntry]:
        files: dict[str, FileEntry] = {}
        for sibling in info.siblings or []:
            path = sibling.rfilename
            if not _safe_path(path):
                self._add(
                    "hub.unsafe-path", Severity.HIGH, f"the Hub lists an unsafe path {path!r}; ignored", path
                )
                continue
            lfs = sibling.lfs
            files[path] = FileEntry(
                path=path,
                size=lfs.size if lfs is not None else sibling.size,
                lfs_sha256=lfs.sha256 if lfs is not None else None,
                git_blob_id=None if lfs is not None else sibling.blob_id,
                present=False,
                extra=(("lfs_pointer_oid", sibling.blob_id),) if lfs is not None and sibling.blob_id else (),
            )
        return {path: files[path] for path in sorted(files)}

    def _entry(self, path: str) -> FileEntry:
        try:
            return self._files[path]
        except KeyError:
            raise InputError(
                f"{self._repo}:{path}", f"not a file of this snapshot ({self._commit[:12]})"
            ) from None

    def _card_facts(self) -> list[Fact]:
        card = self._model.card_data
        if card is None:
            return []
        raw: dict[str, Any] = card.to_dict()  # type: ignore[no-untyped-call]
        facts = [self._fact("hub.card_data", _jsonable(raw), "cardData")]
        relation = raw.get("base_model_relation")
        for base in _str_list(raw.get("base_model")):
            edge = {"repo": base, "relation": relation if isinstance(relation, str) else None}
            facts.append(self._fact("hub.base_model", edge, "cardData.base_model"))
        return facts

    def _fact(self, kind: str, value: Any, key: str) -> Fact:
        location = f"{self._endpoint}/api/models/{self._repo}/revision/{self._commit}"
        return Fact(kind, value, Origin("hub", location, key))

    # --- file reads --------------------------------------------------------------------------------

    def _cached(self, path: str) -> str | None:
        found = try_to_load_from_cache(self._repo, path, revision=self._commit)
        return found if isinstance(found, str) else None

    def _head(self, path: str, timeout: float) -> int | None:
        url = hf_hub_url(self._repo, path, revision=self._commit, endpoint=self._endpoint)
        meta = get_hf_file_metadata(
            url,
            token=self._token,
            timeout=timeout,
            endpoint=self._endpoint,
            library_name=_LIBRARY_NAME,
            library_version=__version__,
        )
        return meta.size

    def _download(self, path: str) -> str:
        where = f"{self._repo}:{path}"
        try:
            return hf_hub_download(
                self._repo,
                path,
                revision=self._commit,
                token=self._token,
                endpoint=self._endpoint,
                etag_timeout=self._timeout,
                library_name=_LIBRARY_NAME,
                library_version=__version__,
            )
        except (HfHubHTTPError, OfflineModeIsEnabled):
            raise
        except LocalEntryNotFoundError as exc:
            cause = exc.__cause__ or exc
            problem = f"download failed ({_describe(cause)})"
            raise self._error(HubUnavailableError, where, problem, _UNAVAILABLE_HINT) from exc
        except (httpx2.HTTPError, OSError) as exc:
            problem = f"incomplete download ({_describe(exc)}), after huggingface_hub's own resume attempts"
            raise self._error(HubUnavailableError, where, problem, _UNAVAILABLE_HINT) from exc

    def _range_get(self, url: str, path: str, length: int, timeout: float) -> bytes:
        headers: dict[str, str] = build_hf_headers(
            token=self._token, library_name=_LIBRARY_NAME, library_version=__version__
        )
        headers.update({"range": f"bytes=0-{length - 1}", "accept-encoding": "identity"})
        current = url
        for _ in range(_MAX_REDIRECTS + 1):
            with get_session().stream(
                "GET", current, headers=headers, timeout=timeout, follow_redirects=False
            ) as resp:
                if resp.has_redirect_location:
                    target = urljoin(current, resp.headers["Location"])
                    if not self._hub_origin(current, target):
                        headers.pop("authorization", None)
                    current = target
                    continue
                hf_raise_for_status(resp)
                return self._read_range(resp, path, length)
        raise self._error(HubError, f"{self._repo}:{path}", f"more than {_MAX_REDIRECTS} redirects")

    def _hub_origin(self, current: str, target: str) -> bool:
        """As huggingface_hub decides where the token may go: the same origin, or a Hub endpoint."""
        hubs = (self._endpoint, constants.ENDPOINT, "https://huggingface.co", "https://hf.co")
        return _origin(target) in {_origin(current), *(_origin(h) for h in hubs)}

    def _read_range(self, resp: httpx2.Response, path: str, length: int) -> bytes:
        expected = self._expected_length(resp, path, length)
        received = bytearray()
        try:
            for chunk in resp.iter_raw():
                received += chunk
                if len(received) >= length:
                    break
        except (httpx2.RemoteProtocolError, httpx2.ReadError) as exc:
            raise _IncompleteError(path, len(received), expected or length) from exc
        if expected is not None and len(received) < expected:
            raise _IncompleteError(path, len(received), expected)
        if resp.status_code == 200 and path not in self._range_ignored:
            self._range_ignored.add(path)
            message = (
                f"{path}: the server ignored the Range header and started sending the whole file; "
                f"read {min(len(received), length)} bytes and closed the connection"
            )
            self._add("hub.range-ignored", Severity.LOW, message, path)
        return bytes(received[:length])

    def _expected_length(self, resp: httpx2.Response, path: str, length: int) -> int | None:
        if resp.status_code == 206:
            match = _CONTENT_RANGE.match(resp.headers.get("Content-Range", ""))
            if not match or int(match.group(1)) != 0:
                got = resp.headers.get("Content-Range")
                problem = f"range answer does not start at byte 0 (Content-Range {got!r})"
                raise self._error(HubError, f"{self._repo}:{path}", problem)
            return min(length, int(match.group(2)) + 1)
        if resp.status_code != 200:
            raise self._error(
                HubError, f"{self._repo}:{path}", f"unexpected HTTP {resp.status_code} to a range request"
            )
        size = resp.headers.get("Content-Length")
        identity = resp.headers.get("Content-Encoding", "identity").lower() == "identity"
        return min(length, int(size)) if size and size.isdigit() and identity else None

    def _check_hash(self, entry: FileEntry, data: bytes) -> None:
        if entry.lfs_sha256 is not None:
            algorithm, expected, actual = "sha256", entry.lfs_sha256, hashlib.sha256(data).hexdigest()
        elif entry.git_blob_id is not None:
            algorithm, expected = "git-sha1", entry.git_blob_id
            actual = hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()
        else:
            return
        if actual != expected:
            message = f"{entry.path}: {algorithm} of the bytes read is {actual}, the Hub lists {expected}"
            self._add("hub.hash-mismatch", Severity.HIGH, message, entry.path)

    # --- retries and errors ------------------------------------------------------------------------

    def _with_retries(self, what: str, call: Callable[[float], T]) -> T:
        start = time.monotonic()
        tried: list[str] = []
        while True:
            left = self._deadline - (time.monotonic() - start)
            try:
                return call(max(0.05, min(self._timeout, left)))
            except ProvenanceError:
                raise
            except Exception as exc:  # noqa: BLE001  (classified below: retried, mapped, or re-raised)
                failure = self._classify(exc, what)
            tried.append(failure.label)
            wait = failure.wait if failure.wait is not None else self._backoff_after(len(tried))
            elapsed = time.monotonic() - start
            if failure.rate_limited and failure.wait is not None and failure.wait > self._max_retry_after:
                cap = self._max_retry_after
                problem = f"rate limited (Retry-After {failure.wait:g} s exceeds our cap of {cap:g} s)"
                raise self._error(RateLimitedError, self._target, problem, _RATE_HINT)
            if len(tried) >= self._max_attempts or elapsed + wait > self._deadline:
                self._give_up(what, failure, tried, elapsed)
            time.sleep(wait)

    def _backoff_after(self, attempts: int) -> float:
        return float(min(_BACKOFF_MAX, self._backoff * 2 ** (attempts - 1)))

    def _give_up(self, what: str, last: _Failure, tried: list[str], elapsed: float) -> NoReturn:
        history = f"{len(tried)} attempt(s) in {elapsed:.1f} s: {', '.join(tried)}"
        if last.rate_limited:
            problem = f"rate limited: {what} still answered 429 after {history}"
            raise self._error(RateLimitedError, self._target, problem, _RATE_HINT)
        problem = f"{last.label}; gave up on {what} after {history}"
        raise self._error(HubUnavailableError, self._target, problem, _UNAVAILABLE_HINT)

    def _classify(self, exc: Exception, what: str) -> _Failure:
        """A retryable failure, or raise the error that ends the operation."""
        if isinstance(exc, _IncompleteError):
            return _Failure(str(exc))
        if isinstance(exc, OfflineModeIsEnabled):
            raise self._error(
                HubUnavailableError, self._target, "offline mode (HF_HUB_OFFLINE=1)", _UNAVAILABLE_HINT
            )
        if isinstance(exc, HfHubHTTPError):
            return self._classify_http(exc, what)
        if isinstance(exc, httpx2.TimeoutException):
            return _Failure(f"timeout ({type(exc).__name__})")
        if isinstance(exc, httpx2.RemoteProtocolError | httpx2.NetworkError):
            return _Failure(f"connection failed ({type(exc).__name__})")
        if isinstance(exc, httpx2.HTTPError):  # redirects loop, bad URL, proxy refused...: not worth a retry
            problem = f"{what} failed ({_describe(exc)})"
            raise self._error(HubUnavailableError, self._target, problem, _UNAVAILABLE_HINT) from exc
        raise exc

    def _classify_http(self, exc: HfHubHTTPError, what: str) -> _Failure:
        self._raise_answer(exc, what)
        response = exc.response
        status = response.status_code if response is not None else 0
        if status == 429:
            wait = _retry_after(response.headers) if response is not None else None
            return _Failure("HTTP 429", wait, rate_limited=True)
        if status in _RETRY_STATUSES:
            return _Failure(f"HTTP {status}")
        detail = f": {exc.server_message}" if exc.server_message else ""
        raise self._error(HubError, self._target, f"HTTP {status} for {what}{detail}") from exc

    def _raise_answer(self, exc: HfHubHTTPError, what: str) -> None:
        """Map the Hub's definite answers (gated, not found) to our errors."""
        if isinstance(exc, HfGatedRepoError):
            status = exc.response.status_code if exc.response is not None else 0
            why = "anonymous request" if status == 401 else "this token has not been granted access"
            problem = f"gated repo: files need the terms accepted ({why}; HTTP {status} for {what})"
            hint = (
                f"accept the terms at {self._endpoint}/{self._repo}, then set HF_TOKEN to a token of an "
                "account that accepted the terms; the public metadata is still reported"
            )
            raise self._error(GatedRepoError, self._target, problem, hint) from exc
        if isinstance(exc, RepositoryNotFoundError):
            hint = "check the id; for a private repo set HF_TOKEN to a token with read access"
            raise self._error(RepoNotFoundError, self._repo, "not found or private", hint) from exc
        if isinstance(exc, HfRevisionNotFoundError):
            problem = f"revision {self._revision or 'main'!r} not found"
            refs = f"{self._endpoint}/{self._repo}/tree/main"
            hint = f"use a branch, tag or full commit hash of {self._repo} (see {refs})"
            raise self._error(RevisionNotFoundError, self._target, problem, hint) from exc
        if isinstance(exc, EntryNotFoundError):
            problem = f"listed at commit {self._commit[:12]} but the Hub answered 404 EntryNotFound ({what})"
            raise self._error(
                ListedFileMissingError, self._target, problem, "the repo may have been rewritten; scan again"
            ) from exc

    def _error(
        self, cls: type[ProvenanceError], target: str, problem: str, hint: str = ""
    ) -> ProvenanceError:
        return cls(self._scrub(target), self._scrub(problem), self._scrub(hint))

    def _scrub(self, text: str) -> str:
        for secret in (self._token, os.environ.get("HF_TOKEN"), os.environ.get("HUGGING_FACE_HUB_TOKEN")):
            if secret and len(secret) >= 4:
                text = text.replace(secret, "***")
        return _TOKEN_SHAPE.sub("hf_***", text)

    def _add(self, rule: str, severity: Severity, message: str, location: str) -> None:
        self._findings.append(Finding(rule, severity, self._scrub(message), self._scrub(location)))


_MALFORMED_HINT = "the endpoint does not answer like the Hugging Face Hub; check HF_ENDPOINT, or retry later"
_UNAVAILABLE_HINT = (
    "check the network or the Hub's status, then retry; HF_HUB_OFFLINE=1 scans the local cache instead"
)
_RATE_HINT = "wait and retry later; authenticated requests (HF_TOKEN) get a higher rate limit"


def _retry_after(headers: Mapping[str, str]) -> float | None:
    """Seconds the server asked us to wait: `RateLimit: ...;r=0;t=N`, else `Retry-After` (seconds or date)."""
    limited = _RATELIMIT.search(headers.get("RateLimit") or "")
    if limited:
        return float(limited.group(1))
    value = (headers.get("Retry-After") or "").strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _base_models_from_tags(tags: list[str]) -> list[dict[str, str | None]]:
    """`base_model:org/x` and `base_model:{relation}:org/x` as one edge per repo (ids never contain ':')."""
    relations: dict[str, str | None] = {}
    for tag in tags:
        if not tag.startswith("base_model:"):
            continue
        rest = tag.removeprefix("base_model:")
        relation, sep, repo = rest.partition(":")
        if sep and relation in _RELATIONS:
            relations[repo] = relation
        elif not sep:
            relations.setdefault(rest, None)
    return [{"repo": repo, "relation": rel} for repo, rel in relations.items()]


def _base_models_field(value: Any) -> list[dict[str, str | None]]:
    """`baseModels` as list[str], list[{id}] or {relation, models: [{id}]} (its shape is not documented)."""
    relation = value.get("relation") if isinstance(value, dict) else None
    items = value.get("models") if isinstance(value, dict) else value
    edges: list[dict[str, str | None]] = []
    for item in items if isinstance(items, list) else []:
        repo = item.get("id") if isinstance(item, dict) else item
        if isinstance(repo, str):
            edges.append({"repo": repo, "relation": relation if isinstance(relation, str) else None})
    return edges


def _safe_path(path: Any) -> bool:
    if not isinstance(path, str) or not path or path.startswith("/") or "\\" in path or "\0" in path:
        return False
    return not re.match(r"^[A-Za-z]:", path) and all(part not in {"", ".", ".."} for part in path.split("/"))


def _origin(url: str) -> tuple[str, str, int]:
    parts = urlsplit(url)
    return (
        parts.scheme,
        (parts.hostname or "").lower(),
        parts.port or {"http": 80, "https": 443}.get(parts.scheme, 0),
    )


def _read_local(path: str, where: str, limit: int) -> bytes:
    try:
        with Path(path).open("rb") as fh:
            data = fh.read(limit + 1)
    except OSError as exc:
        raise InputError(where, f"cannot read the copy in the Hugging Face cache ({exc.strerror})") from None
    if len(data) > limit:
        raise LimitExceededError(where, f"file is over the {limit}-byte read cap")
    return data


def _str_list(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


def _iso(value: Any) -> str | None:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return value if isinstance(value, str) else None


def _first_line(exc: BaseException) -> str:
    return str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {_first_line(exc)}"
