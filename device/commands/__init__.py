"""The ``vigkit`` subcommands, one module per area; ``device.cli`` wires them up."""
