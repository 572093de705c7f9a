"""Tinsel's store: catalog, orders, returns, the refund ladder and handoffs. No Rasa in here."""
