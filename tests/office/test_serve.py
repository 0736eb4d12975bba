"""``vigkit office serve``: the review page over a synced archive, read-only for films.

The archive is made the real way: a kit data folder with a film recorded by ``vigkit
record``, notes, a clip, a still and timeline thumbnails, synced by ``vigkit sync`` to a
folder (the USB-drive remote). The page runs in the Flask test client and, once, as the
real command on a free port. Films are checked against the real ``age`` CLI's plaintext.
"""

from __future__ import annotations

import hashlib
import http.cookiejar
import io
import json
import re
import signal
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, cast

import pytest
from flask import Flask
from flask.testing import FlaskClient

from device import age
from device.commands.office_serve import load_key
from device.errors import ChunkAuthError, NoIdentityMatch
from device.library import DataDir
from device.library.thumbs import save_thumbnails
from device.media import FragmentIndex, open_virtual_mp4
from device.media.thumbnails import make_thumbnails
from device.office.archive import open_archive
from device.office.kit_register import Register, load_register
from device.office.recordings import ArchiveRecordings
from device.office.verify import verify
from tests.recording.conftest import VIGKIT, OfficeKey, vigkit
from tests.sync.conftest import KitFiles, Server, free_port, sync
from web.office import Gate, create_office_app

CODE = "the-access-code-for-this-test"
KIT_ONLY = [
    ("GET", "/record"),
    ("POST", "/record"),
    ("GET", "/preview.jpg"),
    ("GET", "/status"),
    ("GET", "/settings"),
    ("GET", "/sync"),
    ("POST", "/sync"),
    ("GET", "/unlock"),
    ("POST", "/lock"),
    ("GET", "/recordings"),
]


@pytest.fixture
def served_archive(kit: KitFiles, office_key: OfficeKey, tmp_path: Path) -> Path:
    """The archive after one sync of a kit whose film has timeline thumbnails."""
    data = DataDir(kit.data)
    office = age.load_identities(office_key.path)
    with data.film(kit.film).open("rb") as src, age.Reader(src, office) as film:
        thumbs = make_thumbnails(cast(BinaryIO, film), every_s=2.0, width=96)
    recipients = age.parse_recipients(data.recipients_file.read_text())
    save_thumbnails(data, kit.film, thumbs, recipients)
    usb = Server("local", tmp_path / "usb", tmp_path / "usb-work")
    usb.root.mkdir()
    usb.work.mkdir()
    done = sync(kit.write_config(usb))
    assert done.returncode == 0, done.stderr
    return usb.root / "vigkit"


def kit_name(archive: Path) -> str:
    (folder,) = archive.iterdir()
    return folder.name


def make_app(archive: Path, office_key: OfficeKey, wrapped: bytes | None = None) -> Flask:
    identities = load_key([office_key.path], None).identities
    recordings = ArchiveRecordings(archive, load_register(office_key.kits))
    return create_office_app(recordings, identities, Gate(CODE, wrapped))


@pytest.fixture
def client(served_archive: Path, office_key: OfficeKey) -> Iterator[FlaskClient]:
    app = make_app(served_archive, office_key)
    try:
        with app.test_client() as c:
            yield c
    finally:
        app.close()  # the film readers kept open for seeking


def enter(client: FlaskClient) -> None:
    response = client.get(f"/?token={CODE}")
    assert response.status_code == 302
    assert response.location == "/"  # the code leaves the address bar


def csrf(client: FlaskClient, path: str) -> str:
    found = re.search(r'name="csrf-token" content="([^"]+)"', client.get(path).text)
    assert found
    return found.group(1)


def snapshot(root: Path) -> dict[str, tuple[str, int, int, int, int]]:
    """Every file under ``root``: its hash, size, mode, inode and modification time."""
    out = {}
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        st = path.stat()
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        out[str(path.relative_to(root))] = (
            digest,
            st.st_size,
            st.st_mode,
            st.st_ino,
            st.st_mtime_ns,
        )
    return out


# --- who may see the page -------------------------------------------------------------


def test_without_the_access_code_the_page_asks_for_it(
    client: FlaskClient, served_archive: Path, kit: KitFiles
) -> None:
    film = f"/recordings/{kit_name(served_archive)}/{kit.film}"
    assert client.get("/").location == "/enter"
    assert client.get(film).location == "/enter"
    assert client.get(film + "/film.mp4").status_code == 401
    assert client.get(film + "/thumbs/0.jpg").status_code == 401
    assert client.get("/?token=not-the-code").location == "/enter"
    page = client.get("/enter")
    assert page.status_code == 200 and "Access code" in page.text
    assert "passphrase" not in page.text.split("<main>")[1].split("</form>")[0].lower()
    token = csrf(client, "/enter")
    wrong = client.post("/enter", data={"code": "guess", "csrf_token": token})
    assert wrong.status_code == 401
    assert "did not open the page" in wrong.text
    no_csrf = client.post("/enter", data={"code": CODE})
    assert no_csrf.status_code == 400
    right = client.post("/enter", data={"code": CODE, "csrf_token": csrf(client, "/enter")})
    assert right.status_code == 302 and right.location == "/"
    assert client.get("/").status_code == 200
    assert client.get(film + "/film.mp4", headers={"Range": "bytes=0-9"}).status_code == 206


def test_the_code_in_the_address_sets_a_session_cookie_with_the_kit_headers(
    client: FlaskClient,
) -> None:
    response = client.get(f"/?token={CODE}")
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("vigkit_office=")
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    page = client.get("/")
    assert page.status_code == 200
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert page.headers["Cache-Control"] == "no-store"
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert page.headers["Referrer-Policy"] == "no-referrer"


def test_a_protected_key_lets_its_passphrase_in_with_a_back_off(
    served_archive: Path, office_key: OfficeKey, register: Register
) -> None:
    (identity,) = age.load_identities(office_key.path)
    wrapped = age.wrap_identity(identity, "four calm words here", work_factor=10)
    clock = [100.0]
    app = create_office_app(
        ArchiveRecordings(served_archive, register),
        [identity],
        Gate(CODE, wrapped, clock=lambda: clock[0]),
    )
    client = app.test_client()
    assert "the office key's passphrase" in client.get("/enter").text
    wrong = client.post(
        "/enter", data={"code": "not it at all", "csrf_token": csrf(client, "/enter")}
    )
    assert wrong.status_code == 401
    too_soon = client.post(
        "/enter", data={"code": "four calm words here", "csrf_token": csrf(client, "/enter")}
    )
    assert too_soon.status_code == 429
    assert "Please wait 1 second before trying again." in too_soon.text
    clock[0] += 1.5
    right = client.post(
        "/enter", data={"code": "four calm words here", "csrf_token": csrf(client, "/enter")}
    )
    assert right.status_code == 302
    assert client.get("/").status_code == 200


# --- the list, the film and the kit-only routes ---------------------------------------


def test_the_list_shows_every_recording_with_its_kit_and_flags(
    client: FlaskClient, served_archive: Path, kit: KitFiles
) -> None:
    enter(client)
    page = client.get("/").text
    name = kit_name(served_archive)
    cards = re.findall(r'<li class="card">(.*?)</li>', page, re.S)
    assert len(cards) == 3
    by_id = {
        rec: next(c for c in cards if rec in c) for rec in (kit.film, kit.copy, kit.interrupted)
    }
    assert all(f"Kit {name}" in c for c in cards)
    assert "0:06" in by_id[kit.film]
    # every film is filed in the case record F-0231, cycle 2, whose consent is recorded
    assert all("Case F-0231, cycle 2" in c and "No consent recorded" not in c for c in cards)
    assert "Interrupted, not sealed" in by_id[kit.interrupted]
    assert "Interrupted" not in by_id[kit.film]
    only_case = client.get("/?case=F-0231").text
    assert all(rec in only_case for rec in by_id)
    assert "<script>" not in client.get("/?case=<script>").text


def test_the_film_page_shows_the_player_thumbnails_and_notes_but_no_kit_tools(
    client: FlaskClient, served_archive: Path, kit: KitFiles
) -> None:
    enter(client)
    base = f"/recordings/{kit_name(served_archive)}/{kit.film}"
    page = client.get(base).text
    assert f'src="{base}/film.mp4"' in page
    assert page.count('class="thumb"') >= 3
    assert "Being attentive" in page  # the mark
    assert "Taking turns with the blocks" in page  # the clip
    assert "Looking up – a smile" in page  # the still's caption
    assert "How do we take turns?" in page  # the helping question
    assert "its consent is the case's" in page and "Consent given on 2026-11-02" in page
    for absent in ("Mark moment", "Save clip", "Keep this frame", "data-field", "/settings"):
        assert absent not in page
    thumb = client.get(f"{base}/thumbs/0.jpg")
    assert thumb.status_code == 200 and thumb.data.startswith(b"\xff\xd8")
    assert client.get(f"{base}/thumbs/999.jpg").status_code == 404
    still = client.get(f"{base}/stills/s3.jpg")
    assert still.status_code == 200 and still.data.startswith(b"\xff\xd8")
    review = client.get(f"{base}/review")
    assert review.status_code == 200
    assert f'src="{base}/clips/c2.mp4"' in review.text
    assert f'src="{base}/stills/s3.jpg"' in review.text
    assert "readonly" in review.text  # the parent's reflections cannot be changed here


@pytest.mark.parametrize(("method", "path"), KIT_ONLY)
def test_the_kit_only_pages_do_not_exist(client: FlaskClient, method: str, path: str) -> None:
    enter(client)
    headers = {"X-CSRF-Token": csrf(client, "/")}
    response = client.open(path, method=method, headers=headers)
    assert response.status_code == 404, path


def test_the_kit_only_film_routes_do_not_exist_either(
    client: FlaskClient, served_archive: Path, kit: KitFiles
) -> None:
    enter(client)
    headers = {"X-CSRF-Token": csrf(client, "/")}
    base = f"/recordings/{kit_name(served_archive)}/{kit.film}"
    for method, path in [
        ("POST", f"{base}/clips/c2/export"),
        ("POST", f"{base}/stills"),
        ("POST", f"{base}/notes"),
        ("GET", f"{base}/notes"),
        ("GET", f"{base}/clips/c2/download"),
        ("GET", f"{base}/stills/s3/download"),
        ("POST", f"{base}/delete"),
        ("POST", f"{base}/salvage"),
        ("GET", f"/recordings/{kit.film}/film.mp4"),  # the kit's own film URL
    ]:
        response = client.open(path, method=method, headers=headers)
        assert response.status_code in (404, 405), (method, path, response.status_code)
    nav = client.get(base).text.split("<nav")[1].split("</nav>")[0]
    assert re.findall(r'href="([^"]+)"', nav) == ["/", "/cases"]  # recordings and cases


def test_film_ranges_are_the_age_cli_plaintext(
    client: FlaskClient, served_archive: Path, kit: KitFiles, office_key: OfficeKey
) -> None:
    enter(client)
    folder = served_archive / kit_name(served_archive)
    plain = office_key.decrypt(folder / f"{kit.film}.mp4.age")
    index = FragmentIndex.from_json(office_key.decrypt(folder / f"{kit.film}.index.age"))
    with open_virtual_mp4(index, io.BytesIO(plain)) as expected_file:
        expected = expected_file.read()
        layout = expected_file.layout
    url = f"/recordings/{folder.name}/{kit.film}/film.mp4"
    head = client.head(url)
    assert int(head.headers["Content-Length"]) == len(expected)
    last = layout.spans[-1]
    for first, end in [
        (0, 1),  # Safari's first question
        (0, 4095),
        (len(expected) // 2, len(expected) // 2 + 70_000),  # a seek to the middle
        (len(expected) - 1000, len(expected) - 1),
    ]:
        got = client.get(url, headers={"Range": f"bytes={first}-{end}"})
        assert got.status_code == 206
        assert got.headers["Content-Range"] == f"bytes {first}-{end}/{len(expected)}"
        assert got.data == expected[first : end + 1]
    # the fragments are the recorded bytes themselves: the tail is the age CLI's plaintext
    tail = client.get(url, headers={"Range": f"bytes={last.virtual}-{last.virtual + 9999}"})
    assert tail.data == plain[last.source : last.source + 10_000]
    beyond = client.get(url, headers={"Range": f"bytes={len(expected)}-"})
    assert beyond.status_code == 416
    clip = client.get(
        f"/recordings/{folder.name}/{kit.film}/clips/c2.mp4", headers={"Range": "bytes=100-5099"}
    )
    assert clip.status_code == 206
    assert clip.data == office_key.decrypt(folder / f"{kit.film}.clip-1.mp4.age")[100:5100]


# --- comments ---------------------------------------------------------------------------


def test_comments_round_trip_encrypted_to_the_office_key(
    client: FlaskClient, served_archive: Path, kit: KitFiles, office_key: OfficeKey
) -> None:
    enter(client)
    folder = served_archive / kit_name(served_archive)
    base = f"/recordings/{folder.name}/{kit.film}"
    token = csrf(client, base)
    saved = client.post(
        f"{base}/comments",
        data={"text": "Lovely turn-taking — ask about it", "about": "mark:m1", "t": "1.25",
              "by": "JS", "csrf_token": token},
    )  # fmt: skip
    assert saved.status_code == 303
    assert saved.location == f"{base}#comments"
    second = client.post(
        f"{base}/comments",
        data={"text": "Second thought", "csrf_token": token},
        headers={"Accept": "application/json"},
    )
    assert second.status_code == 201
    assert [c["id"] for c in second.get_json()["comments"]] == ["o1", "o2"]
    page = client.get(base).text
    assert "Lovely turn-taking — ask about it" in page and "Second thought" in page
    assert "Mark at 0:01 (Being attentive)" in page and "at 0:01" in page and "JS" in page
    stored = folder / f"{kit.film}.office-notes.age"
    raw = stored.read_bytes()
    assert raw.startswith(b"age-encryption.org/v1\n")
    assert b"turn-taking" not in raw and b"Second" not in raw
    doc = json.loads(office_key.decrypt(stored))
    assert doc["format"] == "vigkit-office-notes/1"
    first = doc["comments"][0]
    assert first["about"] == {"kind": "mark", "id": "m1"}
    assert first["t"] == 1.25 and first["by"] == "JS"
    assert stat_mode(stored) == 0o600
    other = age.X25519Identity.generate()
    with pytest.raises(NoIdentityMatch):
        age.decrypt_bytes(raw, [other])


def stat_mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


def test_a_comment_that_cannot_be_kept_is_a_sentence(
    client: FlaskClient, served_archive: Path, kit: KitFiles
) -> None:
    enter(client)
    base = f"/recordings/{kit_name(served_archive)}/{kit.film}"
    token = csrf(client, base)
    for data, words in [
        ({"text": "   "}, "Write the comment first."),
        ({"text": "x" * 4001}, "A comment can be at most 4,000 characters."),
        ({"text": "ok", "about": "mark:m99"}, "That mark, clip or still is not in"),
        ({"text": "ok", "about": "../../etc"}, "That mark, clip or still is not in"),
        ({"text": "ok", "t": "nan"}, "The time in the film must be a number"),
        ({"text": "ok", "t": "-3"}, "The time in the film must be a number"),
    ]:
        response = client.post(f"{base}/comments", data={**data, "csrf_token": token})
        assert response.status_code == 400, data
        assert words in response.text, (data, response.text)
    forged = client.post(f"{base}/comments", data={"text": "no token"})
    assert forged.status_code == 400
    folder = served_archive / kit_name(served_archive)
    assert not (folder / f"{kit.film}.office-notes.age").exists()


def test_comments_another_key_made_are_never_replaced(
    client: FlaskClient, served_archive: Path, kit: KitFiles
) -> None:
    enter(client)
    folder = served_archive / kit_name(served_archive)
    theirs = folder / f"{kit.film}.office-notes.age"
    other = age.X25519Identity.generate().recipient()
    theirs.write_bytes(
        age.encrypt_bytes(b'{"format":"vigkit-office-notes/1","comments":[]}', [other])
    )
    before = theirs.read_bytes()
    base = f"/recordings/{folder.name}/{kit.film}"
    page = client.get(base)
    assert page.status_code == 200
    response = client.post(
        f"{base}/comments", data={"text": "hi", "csrf_token": csrf(client, base)}
    )
    assert response.status_code == 422
    assert "None of the given keys can open this file." in response.text
    assert theirs.read_bytes() == before


# --- read-only for films ----------------------------------------------------------------


def test_a_whole_session_changes_no_file_the_kit_synced(
    client: FlaskClient, served_archive: Path, kit: KitFiles
) -> None:
    before = snapshot(served_archive)
    enter(client)
    name = kit_name(served_archive)
    base = f"/recordings/{name}/{kit.film}"
    assert client.get("/").status_code == 200
    for rec in (kit.film, kit.copy, kit.interrupted):
        assert client.get(f"/recordings/{name}/{rec}").status_code == 200
    size = int(client.head(f"{base}/film.mp4").headers["Content-Length"])
    for first in (0, size // 3, size // 2, size - 5000, 1000):  # play, seek, seek back
        got = client.get(f"{base}/film.mp4", headers={"Range": f"bytes={first}-"})
        assert got.status_code == 206
    assert client.get(f"{base}/film.mp4").status_code == 200  # whole (capped answer)
    assert client.get(f"{base}/thumbs/1.jpg").status_code == 200
    assert client.get(f"{base}/clips/c2.mp4", headers={"Range": "bytes=0-"}).status_code == 206
    assert client.get(f"{base}/stills/s3.jpg").status_code == 200
    assert client.get(f"{base}/review").status_code == 200
    token = csrf(client, base)
    for text in ("First", "Second"):
        assert (
            client.post(f"{base}/comments", data={"text": text, "csrf_token": token}).status_code
            == 303
        )
    after = snapshot(served_archive)
    added = set(after) - set(before)
    assert added == {f"{name}/{kit.film}.office-notes.age"}
    assert {k: after[k] for k in before} == before
    assert not [p for p in served_archive.rglob("*") if p.name.endswith(".tmp")]


def test_verify_knows_the_comments_as_the_offices_own(
    client: FlaskClient,
    served_archive: Path,
    kit: KitFiles,
    office_key: OfficeKey,
    register: Register,
) -> None:
    enter(client)
    base = f"/recordings/{kit_name(served_archive)}/{kit.film}"
    done = client.post(f"{base}/comments", data={"text": "ok", "csrf_token": csrf(client, base)})
    assert done.status_code == 303
    (report,) = verify(open_archive(served_archive, register)).kits
    assert report.problems == []
    assert not [n for n in report.notes if "not in any manifest" in n], report.notes
    cli = vigkit("office", "verify", served_archive, "--kits", office_key.kits, check=False)
    assert cli.returncode == 3, cli.stdout  # intact; the interrupted film is still flagged
    assert "office-notes" not in cli.stdout


# --- bad input and partial syncs ----------------------------------------------------------


def test_unknown_and_path_like_ids_are_a_plain_404(
    client: FlaskClient, served_archive: Path, kit: KitFiles
) -> None:
    enter(client)
    name = kit_name(served_archive)
    for path in [
        f"/recordings/{name}/20990101T000000Z-0000",
        f"/recordings/{name}/..",
        f"/recordings/{name}/%2e%2e%2fkit",
        f"/recordings/{name}/{kit.film}%2F..%2F..%2Fetc",
        f"/recordings/..%2F..%2Fetc/{kit.film}",
        f"/recordings/no-such-kit/{kit.film}",
        f"/recordings/no-such-kit/{kit.film}/film.mp4",
        f"/recordings/{name}/../{kit.film}",
        f"/recordings/{name}/{kit.film}/stills/s99.jpg",
        f"/recordings/{name}/{kit.film}/clips/..%2F..%2Fc2.mp4",
    ]:
        response = client.get(path)
        assert response.status_code in (404, 422), (path, response.status_code)
        assert '<h1 class="message">' in response.text, path
        assert "Traceback" not in response.text
    missing = client.get(f"/recordings/{name}/20990101T000000Z-0000")
    assert "There is no such recording in this archive." in missing.text
    json_answer = client.get(f"/recordings/{name}/nope", headers={"Accept": "application/json"})
    assert json_answer.status_code == 404 and json_answer.get_json()["error"]


def test_a_partial_sync_and_damaged_files_are_sentences_not_500s(
    client: FlaskClient, served_archive: Path, kit: KitFiles
) -> None:
    enter(client)
    folder = served_archive / kit_name(served_archive)
    base = f"/recordings/{folder.name}"
    # the copy's film arrived only in part; the film's thumbnails and notes are damaged
    film = folder / f"{kit.copy}.mp4.age"
    film.write_bytes(film.read_bytes()[:5000])
    for name in (f"{kit.film}.thumbs.age", f"{kit.film}.notes.age"):
        data = bytearray((folder / name).read_bytes())
        data[-20] ^= 0xFF
        (folder / name).write_bytes(bytes(data))
    listing = client.get("/")
    assert listing.status_code == 200
    assert "Not all files have arrived" in listing.text
    assert "Notes cannot be read" in listing.text
    page = client.get(f"{base}/{kit.copy}")
    assert page.status_code == 200 and "not all in the archive yet" in page.text
    refused = client.get(f"{base}/{kit.copy}/film.mp4")
    assert refused.status_code == 404 and "not in the archive (yet)" in refused.text
    damaged = client.get(f"{base}/{kit.film}")
    assert damaged.status_code == 200
    assert "damaged" in damaged.text or "failed authentication" in damaged.text
    assert client.get(f"{base}/{kit.film}/thumbs/0.jpg").status_code == 422
    interrupted = client.get(f"{base}/{kit.interrupted}/film.mp4")
    assert interrupted.status_code == 422 and "--salvage" in interrupted.text
    # a film damaged in the middle (same size: the sync's size check cannot see it)
    whole = folder / f"{kit.film}.mp4.age"
    data = bytearray(whole.read_bytes())
    data[len(data) // 2] ^= 0xFF
    whole.write_bytes(bytes(data))
    size = int(client.head(f"{base}/{kit.film}/film.mp4").headers["Content-Length"])
    wanted = f"bytes={size // 2 - 400_000}-{size // 2 + 100_000}"
    middle = client.get(f"{base}/{kit.film}/film.mp4", headers={"Range": wanted}, buffered=False)
    assert middle.status_code == 206  # sent before the damage is reached
    with pytest.raises(ChunkAuthError):  # then the answer stops: nothing unauthenticated
        b"".join(middle.response)
    middle.close()
    (folder / f"{kit.film}.index.age").unlink()
    assert client.get(f"{base}/{kit.film}/film.mp4").status_code == 404


# --- the command ------------------------------------------------------------------------


def test_the_command_serves_until_ctrl_c_and_exits_0(
    served_archive: Path, kit: KitFiles, office_key: OfficeKey
) -> None:
    port = free_port()
    proc = subprocess.Popen(
        [*VIGKIT, "office", "serve", str(served_archive), "-i", str(office_key.path),
         "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        found = re.search(r"(http://127\.0\.0\.1:(\d+)/)\?token=(\S+)", line)
        assert found, line + (proc.stderr.read() if proc.stderr else "")
        assert int(found.group(2)) == port
        root = found.group(1)
        opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar())
        )
        with pytest.raises(urllib.error.HTTPError) as locked:
            opener.open(f"{root}recordings/{kit_name(served_archive)}/{kit.film}/film.mp4")
        assert locked.value.code == 401
        locked.value.close()
        with opener.open(found.group(0)) as page:  # the printed address, code and all
            assert page.url == root
            assert kit.film in page.read().decode()
        request = urllib.request.Request(
            f"{root}recordings/{kit_name(served_archive)}/{kit.film}/film.mp4",
            headers={"Range": "bytes=0-1"},
        )
        with opener.open(request) as film:
            assert film.status == 206 and len(film.read()) == 2
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert "Stopped." in out
    assert "Traceback" not in err


def serve_cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*VIGKIT, "office", "serve", *map(str, args), "--port", "0"],
        capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
    )  # fmt: skip


def test_clear_errors_for_a_wrong_archive_key_or_key_file(
    served_archive: Path, office_key: OfficeKey, tmp_path: Path
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    not_archive = serve_cli(empty, "-i", office_key.path)
    assert not_archive.returncode == 1
    assert "holds no VIG Kit manifests" in not_archive.stderr
    assert "Point at the folder the kits sync into" in not_archive.stderr
    other = tmp_path / "other.key"
    subprocess.run(["age-keygen", "-o", str(other)], check=True, capture_output=True)
    unenrolled = serve_cli(served_archive, "-i", other)  # no register of kits beside it
    assert unenrolled.returncode == 1 and "register of kits was not found" in unenrolled.stderr
    assert "vigkit office kit add KIT-ID" in unenrolled.stderr
    assert f"{tmp_path / 'vigkit-kits.txt'} (beside the office key)" in unenrolled.stderr
    kits = ("--kits", office_key.kits)
    wrong = serve_cli(served_archive, "-i", other, *kits)
    assert wrong.returncode == 1
    assert "this key opens none of the files" in wrong.stderr
    assert "recipients.txt" in wrong.stderr
    absent = serve_cli(served_archive, "-i", tmp_path / "nope.key", *kits)
    assert absent.returncode == 1
    assert "cannot read the key file" in absent.stderr and "-i" in absent.stderr
    (identity,) = age.load_identities(office_key.path)
    protected = tmp_path / "protected.key"
    protected.write_bytes(age.wrap_identity(identity, "four calm words here", work_factor=10))
    asked = serve_cli(served_archive, "-i", protected, *kits)
    assert asked.returncode == 1 and "--passphrase-file" in asked.stderr
    wrong_pass = tmp_path / "wrong.txt"
    wrong_pass.write_text("not the passphrase\n")
    refused = serve_cli(served_archive, "-i", protected, "--passphrase-file", wrong_pass, *kits)
    assert refused.returncode == 1 and "passphrase" in refused.stderr
    for done in (not_archive, unenrolled, wrong, absent, asked, refused):
        assert "Traceback" not in done.stderr


def test_a_protected_key_with_its_passphrase_file_opens(
    served_archive: Path, office_key: OfficeKey, tmp_path: Path
) -> None:
    (identity,) = age.load_identities(office_key.path)
    protected = tmp_path / "protected.key"
    protected.write_bytes(age.wrap_identity(identity, "four calm words here", work_factor=10))
    passphrase = tmp_path / "pass.txt"
    passphrase.write_text("four calm words here\n")
    key = load_key([protected], passphrase)
    assert key.wrapped == protected.read_bytes()
    (opened,) = key.identities
    assert isinstance(opened, age.X25519Identity)
    assert str(opened.recipient()) == office_key.public


def test_the_archive_keeps_no_plaintext_from_a_session(
    client: FlaskClient, served_archive: Path, kit: KitFiles
) -> None:
    enter(client)
    base = f"/recordings/{kit_name(served_archive)}/{kit.film}"
    client.get(base)
    client.get(f"{base}/film.mp4")
    for path in served_archive.rglob("*"):
        if path.is_file() and not path.name.endswith(".json"):
            assert path.read_bytes().startswith(b"age-encryption.org/v1\n"), path
