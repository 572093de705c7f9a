"""Money going back to shoppers and the record of who decided it: the refund ladder (who may
give how much back on one order, `refund_ladder`), refunds with their amounts read from the
database and their idempotency (`refunds`), and the append-only audit log that every decision
about money or a ticket writes in the same unit of work (`audit`).
"""
