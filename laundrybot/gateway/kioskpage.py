"""The kiosk web page: static files shipped inside the package, served from memory.

Files under ``laundrybot/gateway/web/`` are read once at start (they are small) and served on
the gateway's port: ``/`` is ``index.html``, anything else by its relative path. Nothing is
fetched from the internet and nothing is built at run time.
"""

from __future__ import annotations

import mimetypes
from dataclasses import dataclass
from pathlib import Path

WEB_ROOT = Path(__file__).resolve().parent / "web"

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".json": "application/json",
    ".png": "image/png",
    ".webp": "image/webp",
    ".woff2": "font/woff2",
    ".wav": "audio/wav",
}


@dataclass(frozen=True)
class StaticFile:
    body: bytes
    content_type: str


def load_site(root: Path = WEB_ROOT) -> dict[str, StaticFile]:
    """URL path -> file, for every regular file under ``root`` (no dotfiles)."""
    site: dict[str, StaticFile] = {}
    if not root.is_dir():
        return site
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if not path.is_file() or any(part.startswith(".") for part in relative.parts):
            continue
        content_type = CONTENT_TYPES.get(path.suffix) or (
            mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        )
        site["/" + relative.as_posix()] = StaticFile(path.read_bytes(), content_type)
    if "/index.html" in site:
        site["/"] = site["/index.html"]
    return site
