"""The kit's principle list is edited on the Settings page, kept encrypted, and offered on
the film page's chips; a bad list is refused in words and the old one kept."""

from __future__ import annotations

from flask.testing import FlaskClient

from device import age
from device.kit.assembly import Kit
from device.library.notes import DEFAULT_PRINCIPLES, load_principles
from tests.web.web_helpers import PASSPHRASE, csrf


def test_settings_shows_and_saves_the_principles(unlocked: FlaskClient, kit: Kit) -> None:
    page = unlocked.get("/settings").get_data(as_text=True)
    assert DEFAULT_PRINCIPLES[0] in page
    response = unlocked.post(
        "/settings/principles",
        data={
            "principles": "Being attentive\n\n  Sharing a joke \nWaiting",
            "csrf_token": csrf(unlocked, "/settings"),
        },
    )
    assert response.status_code == 303
    assert "The principles are saved." in unlocked.get(response.headers["Location"]).text
    stored = (kit.library.data.root / "principles.age").read_bytes()  # ciphertext only
    assert b"Sharing a joke" not in stored
    assert "Sharing a joke" in unlocked.get("/settings").get_data(as_text=True)


def test_a_bad_list_is_refused_and_the_old_one_kept(unlocked: FlaskClient, kit: Kit) -> None:
    token = csrf(unlocked, "/settings")
    response = unlocked.post(
        "/settings/principles", data={"principles": "Same\nSame", "csrf_token": token}
    )
    assert response.status_code == 400
    # the Settings page again, the list as typed in its box and the reason under it
    refused = response.get_data(as_text=True)
    assert "no two may be the same" in refused and ">Same\nSame</textarea>" in refused
    thirteen = "\n".join(f"Principle {n}" for n in range(13))
    response = unlocked.post(
        "/settings/principles", data={"principles": thirteen, "csrf_token": token}
    )
    assert response.status_code == 400 and f">{thirteen}</textarea>" in response.text
    assert "between 1 and 12" in response.text
    assert "Same\nSame" not in unlocked.get("/settings").get_data(as_text=True)
    assert DEFAULT_PRINCIPLES[0] in unlocked.get("/settings").get_data(as_text=True)


def test_without_the_token_nothing_changes(unlocked: FlaskClient, kit: Kit) -> None:
    response = unlocked.post("/settings/principles", data={"principles": "Only one"})
    assert response.status_code == 400
    assert "Only one" not in unlocked.get("/settings").get_data(as_text=True)


def test_the_saved_list_opens_with_the_kit_key(unlocked: FlaskClient, kit: Kit) -> None:
    unlocked.post(
        "/settings/principles",
        data={"principles": "Noticing\nWaiting", "csrf_token": csrf(unlocked, "/settings")},
    )
    identities = age.load_identities(kit.library.data.kit_identity_file, passphrase=PASSPHRASE)
    assert load_principles(kit.library.data, identities) == ["Noticing", "Waiting"]
