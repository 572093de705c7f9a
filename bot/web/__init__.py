"""The two web pages Tinsel serves itself, each a package with its templates and static files:
the agents' console (`console`, `python -m bot console`) and the shoppers' web chat page
(`webchat`, `python -m bot webchat`). They hold no rules: every decision is a call into the
store's packages.
"""
