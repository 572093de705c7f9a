"""Reaching out to shoppers beyond their question: one personal touch after an order and the
loyalty summary (`touches`), the reminders shoppers ask for, kept in the database and fired into
their chat (`reminders`), and the holiday calendar of shipping cut-offs, sale dates and support
hours that both read (`holiday_calendar`).
"""
