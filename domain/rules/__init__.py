"""The rules of each kind of command, called by `domain.decide`."""
