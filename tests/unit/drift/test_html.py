"""The ``--html`` writer: a self-contained, escaped page, and how headless Chromium renders it."""

from __future__ import annotations

import html.parser
import re
import shutil
import struct
import subprocess
import zlib
from collections import Counter
from pathlib import Path

from fleet.drift.html import BADGE_COLOURS, DRIFTED_COLOUR, render_html, write_html
from tests.conftest import require
from tests.unit.drift.sample import SCRIPT, SECRET, clean_drift, sample_drift

VOID = {"meta", "br", "hr", "img", "input", "link", "wbr", "source", "col", "area", "base"}


class Tags(html.parser.HTMLParser):
    """Checks that every element is closed in order and collects the attributes seen."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.attrs: list[tuple[str, str, str]] = []
        self.tags: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.attrs += [(tag, name, value or "") for name, value in attrs]
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes {self.stack[-1:]}"
        self.stack.pop()


def parsed(page: str) -> Tags:
    tags = Tags()
    tags.feed(page)
    tags.close()
    assert tags.stack == []
    return tags


def overview_rows(page: str) -> list[str]:
    return re.findall(r'<tr id="host-\d+">(.*?)</tr>', page, re.S)


def test_self_contained() -> None:
    page = render_html(sample_drift())
    tags = parsed(page)
    assert not tags.tags & {"script", "link", "img", "iframe", "object", "embed", "base", "form"}
    for tag, name, value in tags.attrs:
        if name in ("src", "href", "action", "srcset", "poster", "data"):
            assert value.startswith("data:"), (tag, name, value)
    assert "http://" not in page and "https://" not in page
    assert "src=" not in page and "<link" not in page.lower()
    assert "@import" not in page and "url(" not in page


def test_values_are_escaped() -> None:
    page = render_html(sample_drift())
    assert "<script" not in page.lower()
    escaped = SCRIPT.replace("<", "&lt;").replace(">", "&gt;").replace('"', "&#34;")
    assert escaped == "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" and page.count(escaped) == 2
    assert "Welcome to &lt;b&gt;web1&lt;/b&gt;" in page and "<b>web1</b>" not in page
    assert "<code>we&#34;b\\2\n</code>" in page  # a host name with a quote, backslash, newline
    assert "locale-gen: &lt;missing&gt; &amp; &#34;broken&#34;\\x00" in page
    assert "-bell\\x07 escape\\x1b[0m form" in page  # control characters made visible
    assert not re.search("[\x00-\x08\x0b\x0c\x0e-\x1f]", page)
    assert "Grüße from fleet" in page and '<meta charset="utf-8">' in page


def test_secret_is_shown_only_as_its_placeholder() -> None:
    page = render_html(sample_drift())
    quoted = f"&#34;{SECRET}&#34;"
    assert (f"<tr><td><code>password</code></td><td><pre>{quoted}</pre></td>\n"
            f"<td><pre>{quoted}</pre></td></tr>") in page
    assert page.count(SECRET) == 2  # before and after of the one redacted field, nothing more


def test_content() -> None:
    page = render_html(sample_drift())
    assert "<title>fleet drift 2025-11-28 11:16:00 UTC · site.yml</title>" in page
    assert "run 20251128T111600Z · inventory inventories/lab · 12.3 s" in page
    assert "<li><b>5</b>drifted tasks</li>" in page and "<li><b>2</b>persisting</li>" in page
    rows = overview_rows(page)
    hosts = [re.search(r"<code>(.*?)</code>", row, re.S).group(1) for row in rows]  # type: ignore[union-attr]
    assert hosts == ["we&#34;b\\2\n", "web1", "cache1", "db1", "app1"]  # worst first
    web1 = rows[1]
    assert '<span class="badge drifted">drifted</span>' in web1
    assert re.findall(r'<td class="num">(\d+)</td>', web1) == ["4", "2", "2"]  # drifted, new, persisting
    for status in ("failed", "unreachable", "clean"):
        assert f'<span class="badge {status}">{status}</span>' in page
    for status, colour in BADGE_COLOURS.items():
        assert f".badge.{status} {{ background: {colour}; }}" in page
    assert len(set(BADGE_COLOURS.values())) == 4
    sections = re.findall(r'<section class="host"><h2><code>(.*?)</code>', page, re.S)
    assert sections == ["we&#34;b\\2\n", "web1", "cache1", "db1"]  # no section for clean app1
    assert "db1: ssh connect to 10.0.0.9:22 failed: timed out" in page
    assert page.count("<details>") == 5  # one per drifted task
    assert '<span class="state persisting">persisting</span>' in page
    assert "<td>2025-11-27 11:16:00 UTC</td>" in page  # first seen, persisting drift
    assert '<span class="del">-Welcome to' in page and '<span class="add">+Grüße from fleet</span>' in page
    resolved = page.split('<table id="resolved">', 1)[1]
    assert "<code>web2</code></td><td>base : motd</td><td>base</td>" in resolved
    assert "<td>content</td>" in resolved and "No drift, no errors" not in page


def test_clean_run() -> None:
    page = render_html(clean_drift())
    parsed(page)
    assert "No drift, no errors" in page and "<p>Nothing.</p>" in page
    assert 'class="badge drifted"' not in page and "<section" not in page
    assert "exit code 0 (no drift)" in page


def test_fields_without_values() -> None:
    """A drift known only by name (an imperative module's "(would run)") has no empty table."""
    drift = sample_drift()
    task = drift["hosts"]["web1"]["tasks"][0]
    task["drift"].update(fields=["(would run)"], before={}, after={}, unified={})
    page = render_html(drift)
    parsed(page)
    assert page.count("<details>") == 4
    assert '<tr><td colspan="6">(would run)</td></tr>' in page


def test_write_html_atomically(tmp_path: Path) -> None:
    path = tmp_path / "out" / "drift.html"
    write_html(sample_drift(), str(path))
    first = path.stat().st_ino
    write_html(clean_drift(), str(path))
    assert path.stat().st_ino != first
    assert [p.name for p in path.parent.iterdir()] == ["drift.html"]
    assert path.read_text(encoding="utf-8") == render_html(clean_drift())


# --- headless Chromium ---------------------------------------------------------------------

def decode_png(data: bytes) -> tuple[int, int, list[bytes], int]:
    """(width, height, rows of pixels, bytes per pixel) of an 8-bit RGB/RGBA, non-interlaced PNG."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, header = 8, b"", None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", data[pos + 8:pos + 21])
        elif kind == b"IDAT":
            idat += data[pos + 8:pos + 8 + length]
        pos += 12 + length
    assert header is not None
    width, height, depth, colour, _, _, interlace = header
    assert depth == 8 and colour in (2, 6) and interlace == 0, header
    size = 3 if colour == 2 else 4
    stride, raw = width * size, zlib.decompress(idat)
    rows, prev = [], bytearray(stride)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        if kind == 1:  # Sub
            for i in range(size, stride):
                line[i] = (line[i] + line[i - size]) & 0xFF
        elif kind == 2:  # Up
            line = bytearray((x + b) & 0xFF for x, b in zip(line, prev, strict=True))
        elif kind in (3, 4):  # Average, Paeth
            for i in range(stride):
                a = line[i - size] if i >= size else 0
                b, c = prev[i], (prev[i - size] if i >= size else 0)
                if kind == 3:
                    line[i] = (line[i] + ((a + b) >> 1)) & 0xFF
                    continue
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 0xFF
        rows.append(bytes(line))
        prev = line
    return width, height, rows, size


def screenshot_colours(png: Path, *colours: str) -> tuple[tuple[int, int], dict[str, int]]:
    """The screenshot's size and how many of its pixels have each ``#rrggbb`` (within 2 per channel)."""
    width, height, rows, size = decode_png(png.read_bytes())
    seen = Counter(row[i:i + 3] for row in rows for i in range(0, len(row), size))
    counts = {}
    for colour in colours:
        want = bytes.fromhex(colour.lstrip("#"))
        counts[colour] = sum(number for pixel, number in seen.items()
                             if all(abs(pixel[k] - want[k]) <= 2 for k in range(3)))
    return (width, height), counts


def chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run headless Chromium with a private profile, offline: file:// pages only."""
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    require(binary is not None, "chromium is not installed (Debian package chromium; tests/run installs it)")
    assert binary is not None
    command = [binary, "--headless=new", "--no-sandbox", "--disable-gpu",
               f"--user-data-dir={tmp_path / 'chromium-profile'}", "--no-first-run",
               "--disable-extensions", "--disable-background-networking", "--disable-sync",
               "--metrics-recording-only", "--disable-default-apps", "--disable-component-update",
               "--host-resolver-rules=MAP * ~NOTFOUND", "--no-proxy-server", *args]
    env = {"HOME": str(tmp_path), "PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8"}
    return subprocess.run(command, capture_output=True, text=True, timeout=120, env=env,
                          stdin=subprocess.DEVNULL, check=False)


def test_chromium_renders_the_page(tmp_path: Path) -> None:
    page = tmp_path / "drift.html"
    write_html(sample_drift(), str(page))
    shot = tmp_path / "drift.png"
    done = chromium(tmp_path, f"--screenshot={shot}", "--window-size=1280,1024", page.as_uri())
    assert done.returncode == 0 and shot.exists(), done.stderr[-2000:]
    size, counts = screenshot_colours(shot, DRIFTED_COLOUR, BADGE_COLOURS["clean"])
    assert size == (1280, 1024)
    assert counts[DRIFTED_COLOUR] > 2000  # the drifted badges, above the fold
    assert counts[BADGE_COLOURS["clean"]] > 500

    dom = chromium(tmp_path, "--dump-dom", page.as_uri())
    assert dom.returncode == 0, dom.stderr[-2000:]
    rows = [row for row in overview_rows(dom.stdout) if "<code>web1</code>" in row]
    assert len(rows) == 1 and '<span class="badge drifted">drifted</span>' in rows[0]
    assert dom.stdout.count("<details>") == 5


def test_chromium_clean_page_has_no_drift_colour(tmp_path: Path) -> None:
    page = tmp_path / "clean.html"
    write_html(clean_drift(), str(page))
    shot = tmp_path / "clean.png"
    done = chromium(tmp_path, f"--screenshot={shot}", "--window-size=1280,1024", page.as_uri())
    assert done.returncode == 0 and shot.exists(), done.stderr[-2000:]
    size, counts = screenshot_colours(shot, DRIFTED_COLOUR, BADGE_COLOURS["clean"])
    assert size == (1280, 1024)
    assert counts == {DRIFTED_COLOUR: 0, BADGE_COLOURS["clean"]: counts[BADGE_COLOURS["clean"]]}
    assert counts[BADGE_COLOURS["clean"]] > 500
