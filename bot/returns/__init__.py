"""Returns, exchanges and problem reports on a verified order (`commands`): which items may go
back and why not, matching the shopper's words to the order's items, the RMA and the remedy.
The money of a return is computed in `bot/money/`.
"""
