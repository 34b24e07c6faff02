"""The subcommands of ``matrixbench``: one module per command, each a short function
``cmd_<name>(args) -> exit code``. Shared pieces (suite lookup, plugin loading, usage
errors) live in :mod:`matrixbench.commands.common`."""
