"""What the kit's and the office's pages share.

``security`` (CSRF, response headers, the session's key), ``errors`` (answers in words,
HTML or JSON), ``ranges`` (HTTP Range answers), ``assets`` (hashed static URLs),
``films`` (opening an encrypted film as a virtual MP4), ``keyring`` (the unlocked key in
memory), ``display`` (durations, review prompts) and ``serving`` (the waitress server).
Nothing here imports ``web.kit`` or ``web.office``.
"""

from web.common.serving import make_server

__all__ = ["make_server"]
