"""Exit codes of the `citydata` command; scripts may rely on them."""

from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    FAILED = 1  # a service, dataset or check failed; the message says which
    USAGE = 2  # bad arguments (typer's own code)
    PREREQUISITES = 3  # a system prerequisite is missing; the message gives the install command
    PORT_IN_USE = 4  # a port the stack needs is taken by another program
    UNHEALTHY = 5  # `stack status`: at least one service is not healthy
