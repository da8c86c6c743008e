"""What the CLI prints for each kind of API body, built from `cli.render`'s primitives."""
