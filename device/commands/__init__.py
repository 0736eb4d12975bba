"""The ``vigkit`` subcommands, one module per area; ``device.cli`` wires them up.

These are the composition roots: each reads its settings, builds the parts it needs and
passes them in by keyword; they are the only modules that import the ``web`` pages.
The package itself offers nothing: import the subcommand's module.
"""

__all__: list[str] = []
