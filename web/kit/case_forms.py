"""The consent form as the phone sends it (a plain HTML form, no script needed), read into
the consent record ``device.cases.schema.check_consent`` checks.

Nothing is assumed: an unticked point is a "no", and "use in training" must be answered
yes or no (left unanswered it stays unanswered, and the check asks for it). What was
typed is kept in ``values`` so a refused form comes back as it was filled in.
"""

from __future__ import annotations

from typing import Any

from werkzeug.datastructures import MultiDict

from device.cases import DEFAULT_ERASE_MONTHS

TOGGLES = ("practitioner", "supervisor", "stops_on_request")


def consent_from_form(form: MultiDict[str, str]) -> dict[str, Any]:
    """The consent record the form describes (checked later by the store)."""
    training = form.get("training", "")
    consent: dict[str, Any] = {
        "given_on": form.get("given_on", "").strip(),
        **{name: form.get(name) == "yes" for name in TOGGLES},
        "training": {"yes": True, "no": False}.get(training),
    }
    if form.get("erase_rule") == "date":
        consent["erase_on"] = form.get("erase_on", "").strip() or "not given"
    else:
        consent["erase_months"] = _months(form.get("erase_months", ""))
    return consent


def _months(typed: str) -> int | str:
    """A whole number of months, or what was typed (the check then says what is wanted)."""
    typed = typed.strip()
    return int(typed) if typed.isdigit() else typed


def form_values(form: MultiDict[str, str] | None, today: str) -> dict[str, str]:
    """The form's fields as they should be shown: as typed, or empty (today's date and
    the usual erase rule are the only values filled in for the practitioner)."""
    values = {
        "code": "",
        "question": "",
        "given_on": today,
        "training": "",
        "erase_rule": "months",
        "erase_months": str(DEFAULT_ERASE_MONTHS),
        "erase_on": "",
        **{name: "" for name in TOGGLES},
    }
    if form is not None:
        values.update({k: form.get(k, "") for k in values if k in form or k in TOGGLES})
        if "training" not in form:
            values["training"] = ""
    return values
