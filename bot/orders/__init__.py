"""A shopper's own order: verified look-up (order number together with the email), tracking
and cancellation (`lookup`), and the throttle that stops anyone guessing order numbers across
conversations (`verification_throttle`). Everything that acts on an order (returns, refunds,
handoffs) starts from the verified order these give.
"""
