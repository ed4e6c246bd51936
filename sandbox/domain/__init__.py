"""The sandbox's state and rules in plain Python; nothing here imports Flask."""
