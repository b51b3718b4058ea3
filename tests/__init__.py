"""The test suite of agentcat."""
