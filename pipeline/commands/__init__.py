"""One module per CLI verb (see `pipeline.cli.Command`): `add_arguments(parser)` declares its arguments,
`run(args, root)` turns them into a call of its `*_command` function, which returns the exit code.

A command module imports stage modules only, never another command module; what two verbs share
lives below them (`policy`, `selection`, `connect`, `publish.run`, `cli`).
"""
