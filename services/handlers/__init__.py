"""Use cases: plain async functions taking a command and the process's dependencies."""
