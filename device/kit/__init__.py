"""The running kit, put together: settings in, a working kit out.

``assembly`` is the composition root (``open_kit`` builds the library, the hardware and
the recorder and hands them back as a ``Kit``); ``panel`` connects the front panel's
button and LED to the recorder; ``power`` shuts the Pi down safely; ``wall_clock`` checks
and sets the kit's date from a phone; ``label`` draws the kit's label and Wi-Fi QR code.
"""

from device.kit.assembly import Kit, load_recipients, open_kit

__all__ = ["Kit", "load_recipients", "open_kit"]
