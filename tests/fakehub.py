"""A tiny fake of the Hugging Face Hub on 127.0.0.1, for exercising the real download path.

It speaks just enough of the Hub's HTTP protocol for ``hf_hub_download``,
``get_hf_file_metadata`` and ``HfApi.repo_info(files_metadata=True)``:

* ``HEAD|GET /{repo_id}/resolve/{revision}/{filename}`` (models) and
  ``/datasets/{repo_id}/resolve/...`` (datasets), answering with
  ``X-Repo-Commit``, ``ETag`` (the LFS sha256, or the git blob sha1 for
  non-LFS files), ``X-Linked-Etag`` / ``X-Linked-Size`` for LFS files and
  ``Content-Length``; ``Range: bytes=N-`` gives a 206.
* ``GET /api/{models|datasets}/{repo_id}/revision/{revision}`` -> repo info
  JSON with ``sha`` and ``siblings`` (size, blobId, lfs {sha256, size}).
* Errors the way the Hub sends them: 401 + ``X-Error-Code: RepoNotFound``
  for an unknown repo, 404 + ``RevisionNotFound`` / ``EntryNotFound``.

Tests can inject failures (``fail(...)``: answer N requests with a status),
serve bytes that differ from what the headers promise (``tamper``), and read
the request log (``requests``).
"""
from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlsplit


@dataclass
class _File:
    data: bytes
    lfs: bool
    served: bytes | None = None  # bytes actually sent, when tampered

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()

    @property
    def git_sha1(self) -> str:
        return hashlib.sha1(b"blob %d\0" % len(self.data) + self.data).hexdigest()


@dataclass
class _Repo:
    commit: str
    branches: dict[str, str] = field(default_factory=lambda: {})
    files: dict[str, _File] = field(default_factory=dict)


@dataclass
class _Fault:
    method: str
    contains: str
    status: int
    times: int


class FakeHub:
    def __init__(self):
        self.repos: dict[tuple[str, str], _Repo] = {}
        self.requests: list[tuple[str, str]] = []
        self._faults: list[_Fault] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self.url = ""

    # ------------------------------------------------------------------ content
    def add_file(self, repo_type: str, repo_id: str, filename: str, data: bytes, *, lfs: bool = True,
                 branch: str = "main") -> str:
        """Add (or replace) a file; returns the repo's commit sha (a new one per change)."""
        key = (repo_type, repo_id)
        repo = self.repos.get(key) or _Repo(commit="")
        repo.files[filename] = _File(data=data, lfs=lfs)
        digest = hashlib.sha1(repr(sorted((n, f.sha256) for n, f in repo.files.items())).encode())
        repo.commit = digest.hexdigest()
        repo.branches[branch] = repo.commit
        self.repos[key] = repo
        return repo.commit

    def tamper(self, repo_type: str, repo_id: str, filename: str, served: bytes | None) -> None:
        """Serve ``served`` instead of the file's bytes, headers unchanged (None restores)."""
        self.repos[(repo_type, repo_id)].files[filename].served = served

    def fail(self, method: str, contains: str, status: int, times: int = 1) -> None:
        """Answer the next ``times`` requests whose path contains ``contains`` with ``status``."""
        self._faults.append(_Fault(method.upper(), contains, status, times))

    def count(self, method: str, contains: str = "") -> int:
        return sum(1 for m, p in self.requests if m == method.upper() and contains in p)

    # ------------------------------------------------------------------ server
    def start(self) -> str:
        hub = self

        class Handler(BaseHTTPRequestHandler):
            def do_HEAD(self):  # noqa: N802 (http.server's naming)
                hub._handle(self, "HEAD")

            def do_GET(self):  # noqa: N802
                hub._handle(self, "GET")

            def log_message(self, *args):  # keep pytest output clean
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        return self.url

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()

    # ------------------------------------------------------------------ protocol
    def _handle(self, h: BaseHTTPRequestHandler, method: str) -> None:
        path = urlsplit(h.path).path
        with self._lock:
            self.requests.append((method, path))
            for fault in self._faults:
                if fault.times > 0 and fault.method == method and fault.contains in path:
                    fault.times -= 1
                    return self._send(h, method, fault.status, b"injected failure", {})
        if path.startswith("/api/"):
            return self._api(h, method, path)
        if "/resolve/" in path:
            return self._resolve(h, method, path)
        return self._send(h, method, 404, b"not found", {})

    def _find(self, repo_type, repo_id, revision):
        repo = self.repos.get((repo_type, repo_id))
        if repo is None:
            return None, None, (401, {"X-Error-Code": "RepoNotFound",
                                      "X-Error-Message": "Repository not found"})
        commit = repo.branches.get(revision) or (revision if revision == repo.commit else None)
        if commit is None:
            return repo, None, (404, {"X-Error-Code": "RevisionNotFound",
                                      "X-Error-Message": "Invalid rev id"})
        return repo, commit, None

    def _resolve(self, h, method, path):
        head, _, tail = path.partition("/resolve/")
        repo_type, repo_id = ("dataset", head[len("/datasets/"):]) if head.startswith("/datasets/") \
            else ("model", head.lstrip("/"))
        revision, _, filename = tail.partition("/")
        revision, filename = unquote(revision), unquote(filename)
        repo, commit, error = self._find(repo_type, unquote(repo_id), revision)
        if error:
            return self._send(h, method, error[0], b"error", error[1])
        f = repo.files.get(filename)
        if f is None:
            return self._send(h, method, 404, b"entry not found",
                              {"X-Error-Code": "EntryNotFound", "X-Error-Message": "Entry not found",
                               "X-Repo-Commit": commit})
        body = f.served if f.served is not None else f.data
        headers = {"X-Repo-Commit": commit, "Accept-Ranges": "bytes"}
        if f.lfs:
            headers.update({"ETag": f'"{f.sha256}"', "X-Linked-Etag": f'"{f.sha256}"',
                            "X-Linked-Size": str(len(f.data))})
        else:
            headers["ETag"] = f'"{f.git_sha1}"'
        status = 200
        rng = h.headers.get("Range")
        if method == "GET" and rng and rng.startswith("bytes=") and rng.endswith("-"):
            start = int(rng[len("bytes="):-1])
            headers["Content-Range"] = f"bytes {start}-{len(body) - 1}/{len(body)}"
            body, status = body[start:], 206
        return self._send(h, method, status, body, headers)

    def _api(self, h, method, path):
        # /api/{models|datasets}/{owner}/{name}/revision/{rev}: repo_info (the 0.x snapshot_download too)
        # /api/{models|datasets}/{owner}/{name}/tree/{rev}: list_repo_tree (snapshot_download on >= 1.0)
        parts = path.split("/")
        if len(parts) < 7 or parts[2] not in ("models", "datasets") or parts[5] not in ("revision", "tree"):
            return self._send(h, method, 404, b"unknown api route", {})
        repo_type = "model" if parts[2] == "models" else "dataset"
        repo_id = f"{unquote(parts[3])}/{unquote(parts[4])}"
        repo, commit, error = self._find(repo_type, repo_id, unquote("/".join(parts[6:])) if parts[5] == "revision"
                                         else unquote(parts[6]))
        if error:
            return self._send(h, method, error[0], b'{"error": "not found"}', error[1])
        if parts[5] == "tree":  # recursive listing of the whole repository (no paging: it is small)
            entries = []
            for name, f in repo.files.items():
                e = {"type": "file", "path": name, "size": len(f.data), "oid": f.git_sha1}
                if f.lfs:
                    e["lfs"] = {"oid": f.sha256, "size": len(f.data), "pointerSize": 134}
                entries.append(e)
            return self._send(h, method, 200, json.dumps(entries).encode(), {"Content-Type": "application/json"})
        siblings = []
        for name, f in repo.files.items():
            s = {"rfilename": name, "size": len(f.data), "blobId": f.git_sha1}
            if f.lfs:
                s["lfs"] = {"sha256": f.sha256, "size": len(f.data), "pointerSize": 134}
            siblings.append(s)
        body = json.dumps({"id": repo_id, "sha": commit, "private": False, "siblings": siblings}).encode()
        return self._send(h, method, 200, body, {"Content-Type": "application/json"})

    @staticmethod
    def _send(h, method, status, body, headers):
        h.send_response(status)
        for k, v in headers.items():
            h.send_header(k, v)
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        if method != "HEAD":
            h.wfile.write(body)


# --------------------------------------------------------------------------- course fixtures
# A miniature course: same schema as data_manifest.yaml, tiny dims, so tests
# exercise every code path in milliseconds.
SMALL_DIMS = {"n_val": 12, "n_classes": 5, "n_train_test": 20}
REPOS = {  # name -> (repo_type, repo_id, filename, lfs)
    "teacher_val": ("dataset", "course/teacher-logits", "val_logits.npz", True),
    "teacher_train_test": ("dataset", "course/teacher-logits", "train_test_logits.npz", True),
    "vanilla": ("model", "course/vanilla", "val_predictions.npz", True),
    "distilled": ("model", "course/distilled", "val_predictions.npz", False),
}

SMALL_MANIFEST = """\
# miniature course manifest (tests)
version: 1
dims:
  n_val: 12
  n_classes: 5
  n_train_test: 20
tiers: &tiers [head, mid, tail]
artifacts:
  teacher_val:
    repo_id: course/teacher-logits
    repo_type: dataset
    revision: main
    filename: val_logits.npz
    sha256: null   # filled by data lock
    size: null
    used_by: [lab, homework]
    schema:
      logits: {key: logits, dtype: float, shape: [n_val, n_classes]}
      labels: {key: labels, dtype: int, shape: [n_val], classes: n_classes}
      tiers: {key: tiers, dtype: str, shape: [n_val], values: *tiers}
  teacher_train_test:
    repo_id: course/teacher-logits
    repo_type: dataset
    revision: main
    filename: train_test_logits.npz
    sha256: null
    size: null
    used_by: [training]
    schema:
      logits: {key: logits, dtype: float16, shape: [n_train_test, n_classes]}
  vanilla:
    repo_id: course/vanilla
    repo_type: model
    revision: main
    filename: val_predictions.npz
    sha256: null
    size: null
    used_by: [lab, homework]
    schema: &student
      logits: {key: logits, dtype: float, shape: [n_val, n_classes]}
      labels: {key: labels, dtype: int, shape: [n_val], classes: n_classes}
      tiers: {key: val_tiers, dtype: str, shape: [n_val], values: *tiers}
      preds: {key: preds, dtype: int, shape: [n_val], classes: n_classes}
  distilled:
    repo_id: course/distilled
    repo_type: model
    revision: main
    filename: val_predictions.npz
    sha256: null
    size: null
    used_by: [lab, homework]
    schema: *student
"""


def course_arrays(name: str, seed: int = 0):
    """Valid arrays for one miniature artifact, keyed as in the published files."""
    import numpy as np

    rng = np.random.default_rng(seed)
    n, c = SMALL_DIMS["n_val"], SMALL_DIMS["n_classes"]
    if name == "teacher_train_test":
        return {"logits": rng.normal(size=(SMALL_DIMS["n_train_test"], c)).astype(np.float16)}
    logits = rng.normal(size=(n, c)).astype(np.float32)
    labels = np.arange(n, dtype=np.int64) % c
    tiers = np.array(["head", "mid", "tail"] * (n // 3))
    if name == "teacher_val":
        return {"logits": logits, "labels": labels, "tiers": tiers}
    return {"logits": logits, "preds": logits.argmax(1).astype(np.int64), "labels": labels, "val_tiers": tiers}


def npz_bytes(arrays) -> bytes:
    import io

    import numpy as np

    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def publish_course(hub: FakeHub, seed: int = 0) -> dict[str, bytes]:
    """Put every miniature artifact on the fake Hub; returns {name: file bytes}."""
    out = {}
    for name, (repo_type, repo_id, filename, lfs) in REPOS.items():
        out[name] = npz_bytes(course_arrays(name, seed))
        hub.add_file(repo_type, repo_id, filename, out[name], lfs=lfs)
    return out


def reset_hub_session() -> None:
    """Drop huggingface_hub's cached HTTP session, so the next call sees the current settings.

    huggingface_hub >= 1.0 (httpx) has ``close_session()``; the 0.x line (requests)
    has ``utils.reset_sessions()`` instead.  Both lines are supported.
    """
    import huggingface_hub

    close = getattr(huggingface_hub, "close_session", None)
    if close is None:
        from huggingface_hub.utils import reset_sessions as close
    close()


def point_hub_clients_at(hub: FakeHub, monkeypatch, tmp_path, manifest) -> None:
    """Aim huggingface_hub and the course caches at ``hub``, for one test.

    huggingface_hub reads some settings at import time, so the constants are
    patched as well as the environment; proxies are cleared so 127.0.0.1 is
    reached directly; the HTTP session is reset so it sees all of this.
    """
    from huggingface_hub import constants

    for var in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy", "HF_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("HF_ENDPOINT", hub.url)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf_home"))
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf_cache"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setattr(constants, "HF_HUB_DISABLE_TELEMETRY", True, raising=False)
    monkeypatch.setenv("COURSE_CACHE", str(tmp_path / "course"))
    monkeypatch.setenv("COURSE_MANIFEST", str(manifest))
    reset_hub_session()



def set_offline(monkeypatch, on: bool) -> None:
    """Turn huggingface_hub's offline mode on or off for one test, as a fresh process would see it.

    The Hub client reads ``HF_HUB_OFFLINE`` once, at import, into
    ``huggingface_hub.constants``; the course reads that constant, so both are set.
    """
    from huggingface_hub import constants

    monkeypatch.setenv("HF_HUB_OFFLINE", "1" if on else "0")
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", on)
