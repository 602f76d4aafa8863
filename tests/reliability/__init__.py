"""Fault-injection tests: real processes killed, stores broken, hostile input (issue 11)."""
