"""``python -m helpers data {lock,fetch,verify,list}``: keep the Hub artifacts pinned and honest.

lock    resolve each entry's revision to a commit sha and record the file's
        sha256 and size (the Hub reports both for LFS files; other files are
        downloaded and hashed here), then rewrite data_manifest.yaml in place
fetch   download into the Hub cache and verify size, sha256 and array schema
verify  re-hash the cached files against the manifest (no network)
list    one line per artifact: repo, revision, pinned?, cached?, used by
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TextIO

from helpers.data import hub, integrity, settings, validation
from helpers.data.manifest import ArtifactError, Entry, Manifest, load_manifest

__all__ = ["main", "lock", "fetch", "verify"]


def _names(manifest: Manifest, names: list[str]) -> list[str]:
    for n in names:
        manifest.entry(n)  # raises with the list of valid names
    return names or list(manifest.entries)


# --------------------------------------------------------------------------- lock
def lock(manifest: Manifest, names: list[str], *, revision: str | None = None, out: TextIO | None = None) -> Path:
    """Pin ``names`` (all when empty) to a commit with sha256 and size; saves the manifest."""
    out = out or sys.stdout  # looked up at call time (tests capture stdout)
    from huggingface_hub import HfApi

    if settings.offline():
        raise ArtifactError("data lock asks the Hub for each file's commit, sha256 and size, but offline mode "
                            "is on (HF_HUB_OFFLINE=1). Run it online: HF_HUB_OFFLINE=0 python -m helpers "
                            "data lock")
    api = HfApi(endpoint=settings.endpoint())
    infos: dict[tuple[str, str, str], object] = {}  # one API call per repo and revision
    for name in _names(manifest, names):
        entry = manifest.entry(name)
        rev = revision or entry.revision
        key = (entry.repo_type, entry.repo_id, rev)
        if key not in infos:
            infos[key] = hub.with_retries(
                lambda e=entry, r=rev: api.repo_info(e.repo_id, repo_type=e.repo_type, revision=r,
                                                     files_metadata=True),
                entry, what="lock")
        info = infos[key]
        siblings = {s.rfilename: s for s in (info.siblings or [])}
        sib = siblings.get(entry.filename)
        if sib is None:
            raise ArtifactError(f"lock {name!r}: {entry.repo_type} {entry.repo_id} at {rev} has no file "
                                f"{entry.filename!r}; it has {sorted(siblings)}. Fix 'filename' of "
                                f"{name!r} in data_manifest.yaml.")
        if sib.lfs is not None:
            sha256, size = sib.lfs.sha256, sib.lfs.size
        else:
            # Not LFS: the Hub reports only a git sha1, so download at the commit and hash it here.
            pinned = _replace(entry, revision=info.sha, sha256=None, size=None)
            path = hub.fetch(pinned)
            sha256, size = integrity.sha256_of(path), path.stat().st_size
        manifest.pin(name, revision=info.sha, sha256=sha256, size=size)
        print(f"locked {name:<20} {entry.repo_id}@{info.sha[:12]}  {size:>12,d} B  sha256 {sha256[:16]}…",
              file=out)
    return manifest.save()


def _replace(entry: Entry, **changes) -> Entry:
    import dataclasses

    return dataclasses.replace(entry, **changes)


# --------------------------------------------------------------------------- fetch / verify
def fetch(manifest: Manifest, names: list[str], *, force: bool = False, out: TextIO | None = None) -> None:
    """Download ``names`` (all when empty) into the Hub cache and check sha256 and array schema."""
    out = out or sys.stdout  # looked up at call time (tests capture stdout)
    for name in _names(manifest, names):
        entry = manifest.entry(name)
        path = hub.fetch(entry, force=force)
        validation.read_arrays(path, entry, manifest, origin="hub", trusted=entry.sha256 is not None)
        state = "verified sha256" if entry.sha256 else "NOT PINNED (run `data lock`)"
        print(f"fetched {name:<20} {path}  [{state}; arrays valid]", file=out)


def verify(manifest: Manifest, names: list[str], *, out: TextIO | None = None) -> int:
    """Re-hash cached files; returns the number of mismatches (missing or unpinned files are reported only)."""
    out = out or sys.stdout  # looked up at call time (tests capture stdout)
    problems = 0
    for name in _names(manifest, names):
        entry = manifest.entry(name)
        path = hub.cached_hub_path(entry)
        if path is None:
            print(f"{name:<20} not cached  (python -m helpers data fetch {name})", file=out)
            continue
        actual = integrity.sha256_of(path)
        size = path.stat().st_size
        if entry.sha256 is None:
            print(f"{name:<20} UNPINNED    sha256 {actual}  size {size}  (python -m helpers data lock {name})",
                  file=out)
        elif actual != entry.sha256 or size != entry.size:
            print(f"{name:<20} MISMATCH    {path}\n{'':<20} expected sha256 {entry.sha256} size {entry.size}\n"
                  f"{'':<20} actual   sha256 {actual} size {size}\n"
                  f"{'':<20} fix: python -m helpers data fetch {name} --force", file=out)
            problems += 1
        else:
            print(f"{name:<20} ok          sha256 {actual[:16]}…  {path}", file=out)
    return problems


def list_entries(manifest: Manifest, *, out: TextIO | None = None) -> None:
    """One line per artifact: repo, revision, pinned?, cached?, used by."""
    out = out or sys.stdout  # looked up at call time (tests capture stdout)
    rows = [("name", "repo (type)", "revision", "file", "size", "pinned", "cached", "used by")]
    for e in manifest.entries.values():
        rows.append((e.name, f"{e.repo_id} ({e.repo_type})", e.revision[:12], e.filename,
                     f"{e.size:,d}" if e.size else "-", "yes" if e.is_pinned else "no",
                     "yes" if hub.cached_hub_path(e) else "no", ",".join(e.used_by)))
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        print("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip(), file=out)
    print(f"\nmanifest: {manifest.path}", file=out)


# --------------------------------------------------------------------------- CLI
def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m helpers data", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--manifest", help="path to data_manifest.yaml (default: $COURSE_MANIFEST or the repo root)")
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("lock", help="pin revisions and record sha256 + size")
    s.add_argument("names", nargs="*", help="entries (default: all)")
    s.add_argument("--revision", help="lock to this branch/tag/commit instead of the entry's current revision")
    s = sub.add_parser("fetch", help="download and verify")
    s.add_argument("names", nargs="*")
    s.add_argument("--force", action="store_true", help="download again even if cached")
    s = sub.add_parser("verify", help="re-hash cached files")
    s.add_argument("names", nargs="*")
    sub.add_parser("list", help="table of artifacts")
    return p


def main(argv: list[str] | None = None) -> int:
    """``python -m helpers data ...``; returns the exit status (1 with the error's message on stderr)."""
    args = _parser().parse_args(argv)
    try:
        manifest = load_manifest(args.manifest)
        if args.command == "lock":
            path = lock(manifest, args.names, revision=args.revision)
            print(f"wrote {path}")
        elif args.command == "fetch":
            fetch(manifest, args.names, force=args.force)
        elif args.command == "verify":
            return 1 if verify(manifest, args.names) else 0
        else:
            list_entries(manifest)
    except ArtifactError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
