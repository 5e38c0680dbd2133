"""The corpus's sources: each (repository, commit) as a directory tree outside the repository.

Sources are other people's code under their own licenses: they are downloaded to ``--sources``
(default ``~/.cache/fleet-compat/sources``) and never committed. A repository comes from a
local git directory under ``--mirror DIR`` when one is there (``DIR/owner+name/repo``,
``DIR/owner+name``, ``DIR/owner+name.git`` or ``DIR/owner/name``), else from a bare clone made
with ``git clone`` over the network. The tree of a commit is extracted with ``git archive``
into ``SOURCES/owner+name/COMMIT/`` once and reused.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

from compat.corpus import Item

GIT_TIMEOUT = 900


class SourceError(RuntimeError):
    """A source that could not be had (no mirror, no network, unknown commit)."""


def default_sources_dir() -> Path:
    """``$FLEET_COMPAT_SOURCES``, else ``~/.cache/fleet-compat/sources``."""
    configured = os.environ.get("FLEET_COMPAT_SOURCES")
    return Path(configured).expanduser() if configured else Path.home() / ".cache" / "fleet-compat" / "sources"


def slug(repo: str) -> str:
    return repo.replace("/", "+")


def _is_git_dir(path: Path) -> bool:
    return (path / "HEAD").is_file() and (path / "objects").is_dir()


def mirror_git_dir(mirror: Path, repo: str) -> Path | None:
    """The local git directory of ``repo`` under ``mirror`` (None when there is none)."""
    owner, name = repo.split("/", 1)
    for candidate in (mirror / slug(repo) / "repo", mirror / slug(repo), mirror / f"{slug(repo)}.git",
                      mirror / owner / name):
        if candidate.is_dir() and _is_git_dir(candidate):
            return candidate
        if (candidate / ".git").is_dir() and _is_git_dir(candidate / ".git"):  # a work tree
            return candidate / ".git"
    return None


def _git(git_dir: Path, *args: str, timeout: float = GIT_TIMEOUT) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["git", f"--git-dir={git_dir}", *args], capture_output=True, timeout=timeout)


def _has_commit(git_dir: Path, commit: str) -> bool:
    return _git(git_dir, "cat-file", "-e", f"{commit}^{{commit}}", timeout=60).returncode == 0


def _clone(repo: str, commit: str, sources: Path) -> Path:
    """A bare clone of ``repo`` under ``sources/_git`` that has ``commit`` (fetched if need be)."""
    git_dir = sources / "_git" / f"{slug(repo)}.git"
    if not git_dir.is_dir():
        git_dir.parent.mkdir(parents=True, exist_ok=True)
        url = f"https://github.com/{repo}.git"
        done = subprocess.run(["git", "clone", "--bare", "--filter=blob:none", url, str(git_dir)],
                              capture_output=True, text=True, timeout=GIT_TIMEOUT)
        if done.returncode != 0:
            shutil.rmtree(git_dir, ignore_errors=True)
            raise SourceError(f"git clone {url} failed: {done.stderr.strip()[-300:]}")
    if not _has_commit(git_dir, commit):
        done = _git(git_dir, "fetch", "origin", commit)
        if done.returncode != 0 or not _has_commit(git_dir, commit):
            raise SourceError(f"{repo}: commit {commit} not found ({done.stderr.decode(errors='replace').strip()[-200:]})")
    return git_dir


def git_dir_for(repo: str, commit: str, sources: Path, mirror: Path | None) -> Path:
    """A git directory holding ``commit`` of ``repo``: the mirror's, else a clone."""
    if mirror is not None:
        local = mirror_git_dir(mirror, repo)
        if local is not None:
            if not _has_commit(local, commit):
                raise SourceError(f"{repo}: commit {commit} is not in {local}")
            return local
    return _clone(repo, commit, sources)


def tree(repo: str, commit: str, sources: Path, mirror: Path | None = None) -> Path:
    """The directory holding ``repo`` at ``commit`` (extracted once, then reused)."""
    dest = sources / slug(repo) / commit
    if (dest / ".compat-complete").exists():
        return dest
    git_dir = git_dir_for(repo, commit, sources, mirror)
    dest.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{commit[:12]}-", dir=dest.parent))
    try:
        archive = work / "tree.tar"
        with open(archive, "wb") as out:
            done = subprocess.run(["git", f"--git-dir={git_dir}", "archive", "--format=tar", commit],
                                  stdout=out, stderr=subprocess.PIPE, timeout=GIT_TIMEOUT)
        if done.returncode != 0:
            raise SourceError(f"git archive {repo}@{commit}: {done.stderr.decode(errors='replace').strip()[-300:]}")
        root = work / "tree"
        with tarfile.open(archive) as tar:
            tar.extractall(root, filter="tar")
        (root / ".compat-complete").write_text(f"{repo} {commit}\n")
        shutil.rmtree(dest, ignore_errors=True)
        root.rename(dest)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return dest


def item_dir(item: Item, sources: Path, mirror: Path | None = None) -> tuple[Path, Path]:
    """(the repository's tree, the item's directory in it); SourceError when it is missing."""
    root = tree(item.repo, item.commit, sources, mirror)
    where = root / item.path if item.path else root
    if not where.is_dir():
        raise SourceError(f"{item.repo}@{item.commit[:12]} has no directory {item.path!r}")
    return root, where
