"""Gifts: a free-text gift request understood (recipient, age, interests, budget:
`gift_request`), gift ideas from the catalog that suit the recipient's age and are in stock
(`gifts`), product links, add-ons and other sizes offered around an order (`catalog`), and
wishlists saved from the chat and shared by link (`wishlist`).
"""
