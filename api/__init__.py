"""The JSON API: authenticate the person, check the role, send the command, map the answer."""
