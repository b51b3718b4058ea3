"""The streaming benchmark: agentcat against plain async generators, LCEL and MiniAgents.

Run it with ``python -m bench.run`` in an environment that has the ``bench`` dependency group
(see ``bench/README.md``); ``bench/RESULTS.md`` holds the last full run.
"""
