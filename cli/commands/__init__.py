"""The `lifecycle` command groups. API commands are clients of the HTTP API; `dev`, `worker`
and `playbook check` run locally."""
