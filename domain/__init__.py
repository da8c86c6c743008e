"""The lifecycle's rules: pure functions over plain data, no I/O, no clock, no randomness."""
